package dev.jumpgate.operator.status;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardStatus;
import dev.jumpgate.api.v1alpha1.RelaySpec;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.ssh.HostNames;
import java.util.List;

/**
 * How a laptop reaches a forward's target through the relay that holds the tunnel: as the command a user would type
 * (status.forwards[].endpoint) and as ~/.ssh/config entries (status.sshConfig). One rule for both: a forward that
 * listens on the relay's loopback only is reached by hopping through the relay, as the classic recipe's step 3 does;
 * any other is reached at the relay's address (or the address it listens on).
 */
final class EndpointHint {

    private EndpointHint() {
    }

    static String sshCommand(RelaySpec relay, ForwardSpec forward, int port) {
        if (forward.getSocks() != null) {
            // A SOCKS proxy on the relay's loopback (the schema allows no other), not an SSH target: how a laptop's
            // ssh goes through it to a machine the rules allow.
            return "SOCKS5 on the relay's localhost:" + port + ": ssh -N -L 1080:localhost:" + port + " <relay-user>@"
                    + jumpTo(relay) + ", then ssh -o ProxyCommand='nc -X 5 -x localhost:1080 %h %p' <user>@<lab host>";
        }
        if (forward.getRemote().onLoopback()) {
            return "ssh -J <relay-user>@" + jumpTo(relay) + " -p " + port + " <user>@localhost";
        }
        return "ssh -p " + port + " <user>@" + listenHost(relay, forward);
    }

    /**
     * A Host entry per forward with a known port, in the order of the spec; null when there is none. Names are the
     * tunnel's and the forward's; HostKeyAlias keeps the target's key under that name, so that a move to a fallback
     * relay (another HostName, another port) is no "host key changed" on the laptop, and two tunnels behind one
     * relay's loopback are not one host to it.
     */
    static String sshConfig(ReverseTunnel tunnel, RelaySpec relay, List<ForwardStatus> forwards) {
        StringBuilder config = new StringBuilder();
        for (ForwardSpec forward : tunnel.getSpec().getForwards()) {
            int port = forwards.stream().filter(f -> f.getName().equals(forward.getName()) && f.getRemotePort() != null)
                    .map(ForwardStatus::getRemotePort).findFirst().orElse(forward.getRemote().getPort());
            if (port == 0 || forward.getSocks() != null) {
                continue; // a port the relay allocates, not bound yet; a SOCKS proxy, no SSH host
            }
            String name = tunnel.getMetadata().getName() + "-" + forward.getName();
            config.append("Host ").append(name).append('\n');
            if (forward.getRemote().onLoopback()) {
                config.append("  HostName localhost\n");
                config.append("  Port ").append(port).append('\n');
                config.append("  ProxyJump ").append(jumpTo(relay)).append('\n');
            } else {
                config.append("  HostName ").append(HostNames.unbracketed(listenHost(relay, forward))).append('\n');
                config.append("  Port ").append(port).append('\n');
            }
            config.append("  HostKeyAlias ").append(name).append('\n');
        }
        return config.isEmpty() ? null : "# ReverseTunnel " + tunnel.getMetadata().getNamespace() + "/"
                + tunnel.getMetadata().getName() + ", through " + relay.getHost() + "\n" + config;
    }

    /** The relay as ssh -J and ProxyJump take it: host, and the port when not 22 (an IPv6 address then in brackets). */
    private static String jumpTo(RelaySpec relay) {
        return relay.getPort() == 22 ? HostNames.unbracketed(relay.getHost())
                : HostNames.bracketed(relay.getHost()) + ":" + relay.getPort();
    }

    private static String listenHost(RelaySpec relay, ForwardSpec forward) {
        String bind = forward.getRemote().getBindAddress();
        return bind.equals("0.0.0.0") || bind.equals("*") || bind.isEmpty() || bind.equals("::") ? relay.getHost() : bind;
    }
}
