package dev.jumpgate.api.v1alpha1;

/** How the agent decides whether the relay is the relay. */
public enum HostKeyPolicy {
    /** Only the keys listed in {@code spec.relay.hostKeys}. */
    Pinned,
    /** Trust on first use: the first key seen is pinned in status and required from then on. */
    AcceptNew
}
