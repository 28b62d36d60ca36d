package dev.jumpgate.api.v1alpha1;

/**
 * The reasons that appear in conditions, forward states and Events: one word per cause a user can act on.
 * The agent reports them for what it sees on the wire; the operator for what it sees in the cluster.
 */
public final class Reasons {

    private Reasons() {
    }

    // Ready / Connected, when things work
    public static final String TUNNEL_READY = "TunnelReady";
    public static final String CONNECTED = "Connected";
    public static final String CONNECTING = "Connecting";
    public static final String BOUND = "Bound";

    // found by the operator
    public static final String SPEC_INVALID = "SpecInvalid";
    public static final String SECRET_MISSING = "SecretMissing";
    public static final String AGENT_STARTING = "AgentStarting";
    public static final String AGENT_UNAVAILABLE = "AgentUnavailable";
    public static final String RECONCILE_FAILED = "ReconcileFailed";

    // found by the agent
    public static final String KEY_INVALID = "KeyInvalid";
    public static final String AUTHENTICATION_FAILED = "AuthenticationFailed";
    public static final String HOST_KEY_MISMATCH = "HostKeyMismatch";
    public static final String HOST_KEY_UNKNOWN = "HostKeyUnknown";
    public static final String RELAY_UNREACHABLE = "RelayUnreachable";
    public static final String FORWARD_REFUSED = "ForwardRefused";
    public static final String FORWARD_PENDING = "ForwardPending";
    /** A forward refused where the key never listened: most likely the relay's line for the key predates it. */
    public static final String AUTHORIZED_KEY_OUTDATED = "AuthorizedKeyOutdated";
    /** The relay ran a command for the tunnel's key: its line lacks the options that forbid it. */
    public static final String RELAY_KEY_UNRESTRICTED = "RelayKeyUnrestricted";
    /** The relay refused to run a command for the tunnel's key, as it should. */
    public static final String RELAY_KEY_RESTRICTED = "RelayKeyRestricted";
    /** A forward held its maxConnections and refused more (an Event). */
    public static final String CONNECTIONS_REFUSED = "ConnectionsRefused";
    /** An unexpected failure in the agent itself (a bug): the message carries it; the agent starts a fresh session. */
    public static final String AGENT_FAILED = "AgentFailed";
    /** The agent has not checked the key on the relay yet. */
    public static final String RELAY_KEY_UNCHECKED = "RelayKeyUnchecked";
}
