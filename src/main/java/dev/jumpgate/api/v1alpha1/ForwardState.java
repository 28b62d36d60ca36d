package dev.jumpgate.api.v1alpha1;

/** A forward's state on the relay. */
public enum ForwardState {
    /** The relay listens and forwards connections to the target. */
    Bound,
    /** Not asked for yet: the session is down or being set up. */
    Pending,
    /** The relay refused to listen (port in use, not permitted); retried while the others stay up. */
    Failed
}
