package dev.jumpgate.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.api.v1alpha1.JumpHost;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.testing.InvalidTunnels;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The authorized_keys line of each jump host: the key may go on to the next hop, and the last hop to the relay. */
class JumpHostKeyLinesTest {

    @Test
    void eachHopsLinePermitsTheNextHopOnlyAndTheLastTheRelay() {
        ReverseTunnelSpec spec = new ReverseTunnelSpec();
        spec.getRelay().setHost("relay.example.com");
        spec.getRelay().setPort(2222);
        spec.getRelay().setUser("tunnel");
        spec.getRelay().setVia(List.of(
                new JumpHost("bastion.corp", 22, "jump", List.of(InvalidTunnels.KEY)),
                new JumpHost("fd00::7", 2200, "jump", List.of(InvalidTunnels.KEY))));
        ReverseTunnel tunnel = new ReverseTunnel();
        tunnel.setMetadata(new ObjectMetaBuilder().withName("lab").withNamespace("edge").build());
        tunnel.setSpec(spec);
        Ed25519KeyPair key = Ed25519KeyPair.generate("jumpgate:edge/lab");

        List<String> lines = tunnel.jumpHostKeyLines(key.publicKey());

        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("restrict,port-forwarding,command=")
                .contains("permitopen=\"[fd00::7]:2200\"").doesNotContain("relay.example.com")
                .contains("permitlisten=\"127.0.0.1:1\"")
                .endsWith(key.publicKey().toKeyString() + " jumpgate:edge/lab");
        assertThat(lines.get(1)).contains("permitopen=\"relay.example.com:2222\"").doesNotContain("fd00::7")
                .contains("permitlisten=\"127.0.0.1:1\"");
        assertThat(lines).allSatisfy(line -> assertThat(line).doesNotContain("pty").doesNotContain("agent-forwarding"));
    }
}
