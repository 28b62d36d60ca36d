package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Which spec changes need a new SSH session, and which are applied on the live one. */
class TunnelConfigTest {

    private static final Identity KEY = Identity.of("test", "key".getBytes(StandardCharsets.US_ASCII));

    @Test
    void anyChangeOfTheRelayOrTheKeepaliveNeedsANewSession() {
        List<Consumer<ReverseTunnelSpec>> changes = List.of(
                s -> s.getRelay().setHost("relay-2.example"),
                s -> s.getRelay().setPort(2222),
                s -> s.getRelay().setUser("other"),
                s -> s.getRelay().setHostKeys(List.of("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther")),
                s -> s.getRelay().setHostKeyPolicy(HostKeyPolicy.AcceptNew),
                s -> s.getKeepalive().setIntervalSeconds(20),
                s -> s.getKeepalive().setCountMax(5));
        for (Consumer<ReverseTunnelSpec> change : changes) {
            ReverseTunnelSpec changed = spec();
            change.accept(changed);
            assertThat(config(changed, KEY).sameConnectionAs(config(spec(), KEY))).as(Serialization.asJson(changed)).isFalse();
        }
        assertThat(config(spec(), Identity.of("test", "other key".getBytes(StandardCharsets.US_ASCII)))
                .sameConnectionAs(config(spec(), KEY))).as("another key").isFalse();
    }

    @Test
    void forwardsChecksAndBackoffAreAppliedOnTheLiveSession() {
        ReverseTunnelSpec changed = spec();
        changed.getForwards().clear();
        changed.getCheck().setIntervalSeconds(60);
        changed.getReconnect().setMaxBackoffSeconds(120);
        assertThat(config(changed, KEY).sameConnectionAs(config(spec(), KEY))).isTrue();
    }

    private static TunnelConfig config(ReverseTunnelSpec spec, Identity key) {
        return new TunnelConfig(1, spec, key, null);
    }

    private static ReverseTunnelSpec spec() {
        return Serialization.unmarshal("""
                relay: {host: relay.example, user: tunnel, hostKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinned"]}
                forwards: [{name: ssh, remote: {port: 4022}, target: {host: 127.0.0.1, port: 22}}]
                """, ReverseTunnelSpec.class);
    }
}
