package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumpgate.api.v1alpha1.Cidr;
import dev.jumpgate.api.v1alpha1.SocksSpec;
import java.net.InetAddress;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tier 1: the reverse SOCKS forward's rules, and its gateway from the side of another process of the agent's host. */
class SocksGatewayTest {

    @Test
    void aNetworkContainsTheAddressesOfItsPrefixOnly() throws Exception {
        Cidr lan = Cidr.parse("10.8.92.0/24");
        assertThat(lan.contains(InetAddress.getByName("10.8.92.10"))).isTrue();
        assertThat(lan.contains(InetAddress.getByName("10.8.93.10"))).isFalse();
        assertThat(Cidr.parse("10.8.92.10/32").contains(InetAddress.getByName("10.8.92.11"))).isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").contains(InetAddress.getByName("192.0.2.1"))).isTrue();
        assertThat(Cidr.parse("fd00::/64").contains(InetAddress.getByName("fd00::1"))).isTrue();
        assertThat(Cidr.parse("fd00::/64").contains(InetAddress.getByName("10.8.92.10"))).as("another family").isFalse();
        assertThat(lan.contains(InetAddress.getByName("::ffff:10.8.92.10")))
                .as("Java folds an IPv4-mapped address into IPv4: checked as the IPv4 address it is").isTrue();
        for (String bad : List.of("10.8.92.0", "10.8.92.300/24", "10.8.92.0/33", "fd00::/129", "lab/24", "10.8.92/24",
                "10.8.92.0/x")) {
            assertThatThrownBy(() -> Cidr.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void theRulesAllowTheirNetworksOnTheirPortsOnly() throws Exception {
        SocksSpec rules = new SocksSpec(List.of("10.8.92.0/24", "192.168.1.10/32"), List.of(22, 80));
        assertThat(rules.allows(InetAddress.getByName("10.8.92.10"), 22)).isTrue();
        assertThat(rules.allows(InetAddress.getByName("192.168.1.10"), 80)).isTrue();
        assertThat(rules.allows(InetAddress.getByName("10.8.92.10"), 443)).isFalse();
        assertThat(rules.allows(InetAddress.getByName("192.168.1.11"), 22)).isFalse();
        assertThat(new SocksSpec(List.of("10.8.92.0/24"), null).allows(InetAddress.getByName("10.8.92.1"), 6443))
                .as("no ports listed: any").isTrue();
    }

    @Test
    void whenTheAgentClosesItsEndTheGatewayLetsGoOfATargetThatNeverSpeaks() throws Exception {
        SocksGateway gateway = SocksGateway.get();
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()); Socket agents = new Socket()) {
            gateway.expect(agents, new SocksSpec(List.of("127.0.0.0/8"), null));
            agents.connect(new InetSocketAddress(gateway.host(), gateway.port()), 2_000);
            agents.setSoTimeout(5_000);
            OutputStream out = agents.getOutputStream();
            out.write(new byte[] {5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, (byte) (silent.getLocalPort() >> 8),
                    (byte) silent.getLocalPort()});
            byte[] answer = agents.getInputStream().readNBytes(12);
            assertThat(answer[3]).as("connected").isZero();
            try (Socket target = silent.accept()) {
                target.setSoTimeout(5_000);
                // No half-close first: the target's end of file can then only be the gateway letting go of it.
                gateway.ended(agents.getLocalPort()); // the relay's connection ended: what TargetSockets says

                assertThat(target.getInputStream().read()).as("the gateway closed the target's connection").isEqualTo(-1);
            }
        }
    }

    @Test
    void aNameOfHexLettersIsNoNetworkAndAnIpv4MappedNetworkIsRefused() {
        for (String name : List.of("ad.be/32", "cafe/8", "face:b00c.example/16")) {
            assertThatThrownBy(() -> Cidr.parse(name)).as(name).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> Cidr.parse("::ffff:10.0.0.0/104")).hasMessageContaining("IPv4-mapped");
    }

    @Test
    void anotherProcessThatFindsTheGatewaysPortIsClosedOnWithoutAWord() throws Exception {
        SocksGateway gateway = SocksGateway.get();
        try (Socket stranger = new Socket()) {
            stranger.connect(new InetSocketAddress(gateway.host(), gateway.port()), 2_000);
            stranger.setSoTimeout(5_000);
            stranger.getOutputStream().write(new byte[] {5, 1, 0});
            assertThat(stranger.getInputStream().read()).as("closed, no method offered").isEqualTo(-1);
        }
        try (Socket agents = new Socket()) {
            gateway.expect(agents, new SocksSpec(List.of("127.0.0.0/8"), null));
            agents.connect(new InetSocketAddress(gateway.host(), gateway.port()), 2_000);
            agents.setSoTimeout(5_000);
            agents.getOutputStream().write(new byte[] {5, 1, 0});
            assertThat(agents.getInputStream().read()).as("the agent's own connection is served").isEqualTo(5);
        }
    }
}
