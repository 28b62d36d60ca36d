package dev.jumpgate.operator.status;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.RelaySpec;

/** How a laptop reaches a forward's target, written as the command a user would type. */
final class EndpointHint {

    private EndpointHint() {
    }

    static String sshCommand(RelaySpec relay, ForwardSpec forward, int port) {
        String bind = forward.getRemote().getBindAddress();
        if (bind.equals("127.0.0.1") || bind.equals("localhost") || bind.equals("::1")) {
            // Listening on the relay's loopback only: hop through the relay, as the classic recipe's step 3 does.
            String jump = relay.getHost() + (relay.getPort() == 22 ? "" : ":" + relay.getPort());
            return "ssh -J <relay-user>@" + jump + " -p " + port + " <user>@localhost";
        }
        String host = bind.equals("0.0.0.0") || bind.equals("*") || bind.isEmpty() || bind.equals("::") ? relay.getHost() : bind;
        return "ssh -p " + port + " <user>@" + host;
    }
}
