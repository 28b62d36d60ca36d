package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.AgentPlacement;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;

/** The names of everything the operator creates for a tunnel, derived from the tunnel's name alone. */
public final class Names {

    private Names() {
    }

    /** The generated key Secret, when the spec names none. */
    public static String keySecret(ReverseTunnel tunnel) {
        return tunnel.getMetadata().getName() + "-key";
    }

    /** The tunnel's Lease, through which its agent reports; also the name of a dedicated agent's objects. */
    public static String agent(ReverseTunnel tunnel) {
        return agent(tunnel.getMetadata().getName());
    }

    public static String agent(String tunnelName) {
        return tunnelName + "-agent";
    }

    /**
     * The agent that serves the tunnel: its list of members (a Secret), Deployment, ServiceAccount, Role, RoleBinding and
     * NetworkPolicy share this name. A pool's is {@code <pool>-pool}; a dedicated agent's {@code <tunnel>-agent}.
     * Neither can meet a tunnel's own objects ({@code -agent} Lease, {@code -key} Secret) of another name: a pool's
     * ends in {@code -pool}, and a dedicated agent's is its own tunnel's Lease name, of another kind.
     */
    public static String agentOf(ReverseTunnel tunnel) {
        AgentPlacement placement = tunnel.getSpec().placement();
        return placement.dedicated() ? agent(tunnel) : placement.poolName() + "-pool";
    }
}
