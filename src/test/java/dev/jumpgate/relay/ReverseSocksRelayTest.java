package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.SocksSpec;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import dev.jumpgate.testing.SocksClient;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: a reverse SOCKS forward (spec.forwards[].socks, as {@code ssh -R port} with no target) through a real sshd
 * relay that holds the tunnel's own key line: a SOCKS5 client on the relay reaches what the networks and ports allow,
 * by address or by name, and gets the ruleset's refusal for anything else.
 */
@Tag("relay")
class ReverseSocksRelayTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private final RelayRig rig = new RelayRig("jumpgate:test/socks");
    private EchoServer lab;
    private EchoServer elsewhere;
    private OpenSshRelay relay;
    private TunnelAgent agent;
    private int door;

    @BeforeEach
    void relayAndTargets() {
        lab = rig.closedAfter(new EchoServer());
        elsewhere = rig.closedAfter(new EchoServer());
        relay = rig.relay();
        door = OpenSshRelay.freePort();
        ForwardSpec socks = new ForwardSpec("lan", new RemoteEndpoint(RemoteEndpoint.LOOPBACK, door), null);
        socks.setSocks(new SocksSpec(List.of("127.0.0.0/8"), List.of(lab.port())));
        ReverseTunnelSpec spec = spec(relay);
        spec.setForwards(new ArrayList<>(List.of(socks)));
        ReverseTunnel tunnel = new ReverseTunnel();
        tunnel.setMetadata(new ObjectMetaBuilder().withName("socks").build());
        tunnel.setSpec(spec);
        relay.authorize(tunnel.authorizedKeyLine(rig.key().publicKey())); // the operator's line, not the bare key
        agent = new TunnelAgent(report -> { }).start();
        agent.apply(new TunnelConfig(1, spec, rig.identity(), null));
        await().atMost(PATIENCE).until(() -> {
            AgentReport report = agent.report();
            return report != null && report.forwards().get(0).state() == ForwardState.Bound
                    && report.forwards().get(0).check() != null && report.forwards().get(0).check().reachable();
        });
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
        rig.close();
    }

    @Test
    void aSocksClientOnTheRelayReachesAnAllowedTargetByAddressAndByName() throws Exception {
        for (String host : List.of("127.0.0.1", "localhost")) {
            try (SocksClient client = SocksClient.connect(door, host, lab.port())) {
                assertThat(client.reply()).as(host).isZero();
                assertThat(echoes(client.socket(), 256 * 1024)).isTrue();
            }
        }
        assertThat(agent.report().forwards().get(0).target()).isEqualTo("SOCKS to 127.0.0.0/8 ports [" + lab.port() + "]");
    }

    @Test
    void whatTheRulesDoNotAllowIsRefusedWithTheRulesetsReplyAndNothingIsConnected() throws Exception {
        try (SocksClient otherPort = SocksClient.connect(door, "127.0.0.1", elsewhere.port())) {
            assertThat(otherPort.reply()).as("a port not listed").isEqualTo(0x02);
        }
        try (SocksClient otherNetwork = SocksClient.connect(door, "10.255.255.1", lab.port())) {
            assertThat(otherNetwork.reply()).as("a network not listed").isEqualTo(0x02);
        }
        try (SocksClient bind = SocksClient.request(door, new byte[] {0x00}, 0x02, "127.0.0.1", lab.port())) {
            assertThat(bind.reply()).as("BIND: CONNECT only").isEqualTo(0x07);
        }
        try (SocksClient password = SocksClient.request(door, new byte[] {0x02}, 0x01, "127.0.0.1", lab.port())) {
            assertThat(password.reply()).as("no acceptable method").isEqualTo(0x1FF);
        }
        assertThat(elsewhere.connectionsAccepted()).isZero();
    }

    private static boolean echoes(Socket socket, int size) throws Exception {
        byte[] sent = new byte[size];
        new java.util.Random(7).nextBytes(sent);
        Thread writer = new Thread(() -> {
            try {
                socket.getOutputStream().write(sent);
            } catch (Exception e) {
                // the reader sees the short read
            }
        });
        writer.start();
        byte[] got = new byte[size];
        InputStream in = socket.getInputStream();
        int read = 0;
        while (read < size) {
            int n = in.read(got, read, size - read);
            if (n < 0) {
                return false;
            }
            read += n;
        }
        writer.join();
        return java.util.Arrays.equals(sent, got);
    }
}
