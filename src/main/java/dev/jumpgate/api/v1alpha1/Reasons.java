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
    /** The agent's list of tunnels has no room for this one (a Secret holds 1 MiB): another pool is needed. */
    public static final String POOL_FULL = "PoolFull";
    public static final String RECONCILE_FAILED = "ReconcileFailed";
    /** spec.relay.proxy.credentialsSecret names a Secret not meant for a proxy, or without username and password. */
    public static final String PROXY_CREDENTIALS_INVALID = "ProxyCredentialsInvalid";

    // found by the agent
    public static final String KEY_INVALID = "KeyInvalid";
    public static final String AUTHENTICATION_FAILED = "AuthenticationFailed";
    public static final String HOST_KEY_MISMATCH = "HostKeyMismatch";
    public static final String HOST_KEY_UNKNOWN = "HostKeyUnknown";
    public static final String RELAY_UNREACHABLE = "RelayUnreachable";
    /** A jump host of spec.relay.via would not open the connection onwards (its key line's permitopen, its sshd). */
    public static final String JUMP_HOST_REFUSED = "JumpHostRefused";
    /** The egress proxy refused: credentials, its rules, or an answer that is not its protocol. */
    public static final String PROXY_REFUSED = "ProxyRefused";
    public static final String FORWARD_REFUSED = "ForwardRefused";
    public static final String FORWARD_PENDING = "ForwardPending";
    /** A forward refused where the key never listened: most likely the relay's line for the key predates it. */
    public static final String AUTHORIZED_KEY_OUTDATED = "AuthorizedKeyOutdated";
    /** The relay ran a command for the tunnel's key: its line lacks the options that forbid it. */
    public static final String RELAY_KEY_UNRESTRICTED = "RelayKeyUnrestricted";
    /** A jump host ran a command for the tunnel's key, or tried a connection its line does not permit. */
    public static final String JUMP_HOST_KEY_UNRESTRICTED = "JumpHostKeyUnrestricted";
    /** The relay refused to run a command for the tunnel's key, as it should. */
    public static final String RELAY_KEY_RESTRICTED = "RelayKeyRestricted";
    /** The tunnel left its relay for a fallback relay, or moved between fallbacks (an Event). */
    public static final String RELAY_FAILOVER = "RelayFailover";
    /** The tunnel is back on its preferred relay (an Event). */
    public static final String RELAY_FAILBACK = "RelayFailback";
    /** A forward held its maxConnections and refused more (an Event). */
    public static final String CONNECTIONS_REFUSED = "ConnectionsRefused";
    /** An unexpected failure in the agent itself (a bug): the message carries it; the agent starts a fresh session. */
    public static final String AGENT_FAILED = "AgentFailed";
    // found by the end-to-end check of a forward (ForwardCheck)
    /** The forward's last check passed: relay listen, agent, target, and the target's answer. */
    public static final String REACHABLE = "Reachable";
    /** No forward of the tunnel is checked end to end (every check None, or ports the relay allocates). */
    public static final String CHECKS_OFF = "ChecksOff";
    /** The forward is bound and its first check has not finished yet. */
    public static final String CHECK_PENDING = "CheckPending";
    /** The relay refused the check's connection: the key's line predates checks, or sshd forbids -L for the account. */
    public static final String CHECK_NOT_PERMITTED = "CheckNotPermitted";
    /** The relay bound a wildcard listen to its loopback only (sshd's GatewayPorts no): the Internet cannot get in. */
    public static final String LISTENER_LOOPBACK_ONLY = "ListenerLoopbackOnly";
    /** The relay accepted the forward but a connection to its listen fails (a firewall on the relay, a lost listener). */
    public static final String LISTENER_UNREACHABLE = "ListenerUnreachable";
    /** Something answers at the forward's listen, but the connection never came through this agent (a stale listener). */
    public static final String NOT_LOOPED = "NotLooped";
    /** The target refused the agent's connection (nothing listens there). */
    public static final String TARGET_REFUSED = "TargetRefused";
    /** The target did not answer the agent's connection in time (host down, a firewall dropping). */
    public static final String TARGET_TIMEOUT = "TargetTimeout";
    /** The agent cannot reach the target at all (unknown host, no route). */
    public static final String TARGET_UNREACHABLE = "TargetUnreachable";
    /** The target took the connection but did not answer as the forward's check expects (not an SSH server). */
    public static final String TARGET_UNEXPECTED_ANSWER = "TargetUnexpectedAnswer";

    /** The agent has not checked the key on the relay yet. */
    public static final String RELAY_KEY_UNCHECKED = "RelayKeyUnchecked";
}
