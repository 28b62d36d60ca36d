package dev.jumpgate.api.v1alpha1;

/** When the agent logs in to the first fallback relay. */
public enum FallbackSession {
    /** When it needs it: a failover costs a login (about a second, measured in BENCHMARKS.md). */
    OnFailure,
    /**
     * All the time the preferred relay holds the tunnel: a session logged in and idle, so that a failover only asks it
     * to listen. One more SSH session per tunnel on that relay.
     */
    Standby
}
