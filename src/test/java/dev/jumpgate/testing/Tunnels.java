package dev.jumpgate.testing;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import java.util.ArrayList;
import java.util.List;

/** Specs for tests, written the way a user writes them. */
public final class Tunnels {

    private Tunnels() {
    }

    public static ForwardSpec forward(String name, int remotePort, int targetPort) {
        return new ForwardSpec(name, new RemoteEndpoint(RemoteEndpoint.LOOPBACK, remotePort),
                new TargetEndpoint("127.0.0.1", targetPort));
    }

    /** A spec for this relay, its host key pinned, quick to give up and come back. */
    public static ReverseTunnelSpec spec(OpenSshRelay relay, ForwardSpec... forwards) {
        ReverseTunnelSpec spec = new ReverseTunnelSpec();
        spec.getRelay().setHost("127.0.0.1");
        spec.getRelay().setPort(relay.port());
        spec.getRelay().setUser(relay.user());
        spec.getRelay().setHostKeys(new ArrayList<>(List.of(relay.hostKey())));
        spec.getKeepalive().setIntervalSeconds(1);
        spec.getKeepalive().setCountMax(3);
        spec.getReconnect().setMinBackoffSeconds(1);
        spec.getReconnect().setMaxBackoffSeconds(2);
        spec.setForwards(new ArrayList<>(List.of(forwards)));
        return spec;
    }
}
