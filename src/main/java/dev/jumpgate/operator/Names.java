package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;

/** The names of everything the operator creates for a tunnel, derived from the tunnel's name alone. */
public final class Names {

    private Names() {
    }

    /** The generated key Secret, when the spec names none. */
    public static String keySecret(ReverseTunnel tunnel) {
        return tunnel.getMetadata().getName() + "-key";
    }

    /** The agent's Deployment, ServiceAccount, Role, RoleBinding and Lease all share this name. */
    public static String agent(ReverseTunnel tunnel) {
        return agent(tunnel.getMetadata().getName());
    }

    public static String agent(String tunnelName) {
        return tunnelName + "-agent";
    }
}
