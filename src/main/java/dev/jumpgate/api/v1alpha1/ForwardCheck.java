package dev.jumpgate.api.v1alpha1;

/**
 * What the end-to-end check of a forward expects of its target. The check opens a connection on the relay to the
 * forward's own listen (a direct-tcpip channel the key's line allows for exactly those addresses), sees it arrive
 * through the agent's forward, and the target take it.
 */
public enum ForwardCheck {
    /** SSHBanner when the target's port is 22, Connect otherwise. */
    Auto,
    /** The target must answer with an SSH identification string ("SSH-2.0-..."), as sshd does before anything else. */
    SSHBanner,
    /** The target must accept the connection; for protocols where the client speaks first (HTTP, TLS). */
    Connect,
    /**
     * No check: the forward counts as ready once the relay listens, as before checks existed. Not "Off": YAML 1.1,
     * which kubectl and most YAML readers speak, reads a bare Off as the boolean false.
     */
    None;

    /** What the check expects of this forward's target: Auto resolved. */
    public ForwardCheck resolvedFor(TargetEndpoint target) {
        if (this != Auto) {
            return this;
        }
        return target != null && target.getPort() == 22 ? SSHBanner : Connect;
    }
}
