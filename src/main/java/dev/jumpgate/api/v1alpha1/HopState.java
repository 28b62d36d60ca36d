package dev.jumpgate.api.v1alpha1;

/** How far the agent got with one jump host on its way to the relay. */
public enum HopState {
    /** Logged in; the hop carries the connection onwards. */
    Connected,
    /** The agent could not reach the hop, log in, or have it connect onwards: see the hop's message. */
    Failed,
    /** Not tried: an earlier hop failed, or the agent has not connected yet. */
    NotReached
}
