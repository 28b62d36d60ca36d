package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.api.v1alpha1.FallbackRelay;
import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.JumpHost;
import dev.jumpgate.api.v1alpha1.ProxySpec;
import dev.jumpgate.api.v1alpha1.ProxyType;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Which spec changes need a new SSH session, and which are applied on the live one. */
class TunnelConfigTest {

    private static final String FALLBACK_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIClQeq5MpgRwJn0468OEmvIwvwhZWP6quU83DrTgOE3d";
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
    void onAFallbackRelayTheConfigIsTheSameSpecButForItsRelayWhichIsPinnedAndKeepsTheProxy() throws Exception {
        ReverseTunnelSpec spec = spec();
        spec.getRelay().setHostKeyPolicy(HostKeyPolicy.AcceptNew);
        spec.getRelay().setProxy(new ProxySpec(ProxyType.HTTPConnect, "proxy.example", 3128, null));
        spec.getRelay().setVia(List.of(new JumpHost("bastion.example", 22, "jump", List.of(FALLBACK_KEY))));
        spec.setFallbackRelays(List.of(new FallbackRelay("relay-b.example", 2222, "tunnel", List.of(FALLBACK_KEY))));
        TunnelConfig preferred = new TunnelConfig(7, spec, KEY, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAccepted");

        TunnelConfig fallback = preferred.onRelay(1);

        assertThat(preferred.onRelay(0)).isSameAs(preferred);
        assertThat(fallback.spec().getRelay().where()).isEqualTo("tunnel@relay-b.example:2222");
        assertThat(fallback.hostKeyPins(null)).containsExactly(FALLBACK_KEY);
        assertThat(fallback.acceptedHostKey()).as("nothing trusted on first use carries over").isNull();
        assertThat(fallback.spec().getRelay().jumpHosts()).as("jump hosts are the preferred relay's").isEmpty();
        assertThat(fallback.spec().getRelay().getProxy()).isSameAs(spec.getRelay().getProxy());
        for (Field field : ReverseTunnelSpec.class.getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers()) || field.getName().equals("relay")) {
                continue;
            }
            field.setAccessible(true);
            assertThat(field.get(fallback.spec())).as("withRelay copies " + field.getName()).isSameAs(field.get(spec));
        }
        assertThat(fallback.sameConnectionAs(preferred, 1)).isTrue();
        ReverseTunnelSpec moved = spec.withRelay(spec.getRelay());
        moved.setFallbackRelays(List.of(new FallbackRelay("relay-c.example", 22, "tunnel", List.of(FALLBACK_KEY))));
        assertThat(config(moved, KEY).sameConnectionAs(preferred, 1)).as("another fallback relay").isFalse();
        assertThat(config(moved, KEY).sameConnectionAs(preferred, 0)).as("the preferred relay unchanged").isTrue();
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
