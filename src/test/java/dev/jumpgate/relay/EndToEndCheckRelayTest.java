package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.ForwardCheck;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import dev.jumpgate.report.ForwardReport;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import dev.jumpgate.testing.TcpServer;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: the end-to-end check of a forward against a real OpenSSH relay, installed with the tunnel's own
 * authorized_keys line: the path that works, and each place it breaks that a user meets (the relay's GatewayPorts
 * no, a stranger at the listen, a target whose sshd stopped, a relay that forbids the check), each named in the
 * forward's report, and the way back when fixed. The agent dials the relay as {@link OpenSshRelay#OTHER_ADDRESS}, so a
 * listen bound to the relay's localhost only does not serve it.
 */
@Tag("relay")
class EndToEndCheckRelayTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final int INTERVAL_SECONDS = 5;

    private final RelayRig rig = new RelayRig("jumpgate:test/checked");
    private TunnelAgent agent;

    @AfterEach
    void stop() throws Exception {
        rig.close(); // the agent too: run() hands it to the rig
    }

    @Test
    void aForwardOnTheRelaysAddressIsReachedFromTheRelayThroughTheAgentToTheTargetsBanner() {
        OpenSshRelay relay = rig.closedAfter(OpenSshRelay.start());
        TcpServer lab = sshLikeTarget(0);
        int door = OpenSshRelay.freePort();

        run(relay, wildcard("ssh", door, lab.port()));

        ForwardReport ssh = awaitReason(Reasons.REACHABLE);
        assertThat(ssh.check().reachable()).isTrue();
        assertThat(ssh.check().listeningOn()).isEqualTo(OpenSshRelay.OTHER_ADDRESS + ":" + door);
        assertThat(ssh.check().latencyMillis()).isPositive();
        assertThat(agent.report().relaySshVersion()).startsWith("SSH-2.0-OpenSSH_");
        await().atMost(PATIENCE).until(() -> agent.report().relayOpensAnywhere() != null);
        assertThat(agent.report().relayOpensAnywhere()).as("the line's permitopen holds").isFalse();
    }

    @Test
    void aRelayWithGatewayPortsNoBindsTheWildcardListenToLoopbackAndTheCheckSaysSo() {
        OpenSshRelay relay = rig.closedAfter(OpenSshRelay.withoutRecommendedBlock("GatewayPorts no"));
        TcpServer lab = sshLikeTarget(0);

        run(relay, wildcard("ssh", OpenSshRelay.freePort(), lab.port()));

        ForwardReport ssh = awaitReason(Reasons.LISTENER_LOOPBACK_ONLY);
        assertThat(ssh.check().reachable()).isFalse();
        assertThat(ssh.check().listeningOn()).startsWith("localhost:");
        assertThat(ssh.message()).contains("GatewayPorts");
    }

    @Test
    void somethingElseListeningAtTheForwardsAddressIsNotTakenForTheForward() throws IOException {
        OpenSshRelay relay = rig.closedAfter(OpenSshRelay.withoutRecommendedBlock("GatewayPorts no"));
        TcpServer lab = sshLikeTarget(0);
        int door = OpenSshRelay.freePort();
        ServerSocket stranger = rig.closedAfter(new ServerSocket());
        stranger.bind(new InetSocketAddress(OpenSshRelay.OTHER_ADDRESS, door));
        Thread answering = new Thread(() -> {
            while (!stranger.isClosed()) {
                try (var s = stranger.accept()) {
                    s.getOutputStream().write("SSH-2.0-SomebodyElse\r\n".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    return;
                }
            }
        });
        answering.setDaemon(true);
        answering.start();

        run(relay, wildcard("ssh", door, lab.port()));

        assertThat(awaitReason(Reasons.NOT_LOOPED).message()).contains("never came through this agent");
    }

    @Test
    void aTargetWhoseServerStopsIsRefusedWithinTwoIntervalsAndReachableAgainWithinTwoOnceBack() {
        OpenSshRelay relay = rig.closedAfter(OpenSshRelay.start());
        TcpServer lab = sshLikeTarget(0);
        int labPort = lab.port();
        run(relay, wildcard("ssh", OpenSshRelay.freePort(), labPort));
        awaitReason(Reasons.REACHABLE);

        lab.close();
        long stopped = System.nanoTime();
        awaitReason(Reasons.TARGET_REFUSED, Duration.ofSeconds(2L * INTERVAL_SECONDS + 2));
        long flipMillis = (System.nanoTime() - stopped) / 1_000_000;
        assertThat(flipMillis).isLessThanOrEqualTo(2L * INTERVAL_SECONDS * 1000);

        rig.closedAfter(sshLikeTarget(labPort));
        awaitReason(Reasons.REACHABLE, Duration.ofSeconds(2L * INTERVAL_SECONDS + 2));
    }

    @Test
    void aRelayThatForbidsLocalForwardingForTheAccountSaysTheCheckIsNotPermitted() {
        OpenSshRelay relay = rig.closedAfter(OpenSshRelay.withoutRecommendedBlock("AllowTcpForwarding remote"));
        TcpServer lab = sshLikeTarget(0);

        run(relay, wildcard("ssh", OpenSshRelay.freePort(), lab.port()));

        assertThat(awaitReason(Reasons.CHECK_NOT_PERMITTED).message()).contains("AllowTcpForwarding yes");
    }

    /** A forward on every address of the relay, to a target checked for its SSH banner. */
    private static ForwardSpec wildcard(String name, int door, int target) {
        ForwardSpec forward = new ForwardSpec(name, new RemoteEndpoint("0.0.0.0", door), new TargetEndpoint("127.0.0.1", target));
        forward.setCheck(ForwardCheck.SSHBanner);
        return forward;
    }

    /** The lab machine's sshd as far as the check can tell: a banner first. */
    private TcpServer sshLikeTarget(int port) {
        return rig.closedAfter(new TcpServer("lab-sshd", port, 50, socket -> {
            socket.getOutputStream().write("SSH-2.0-OpenSSH_9.2p1 Lab\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getInputStream().read(); // until the peer closes
        }));
    }

    /** The agent, dialling the relay by its other address, with the relay holding the tunnel's own key line. */
    private void run(OpenSshRelay relay, ForwardSpec... forwards) {
        ReverseTunnelSpec spec = spec(relay, forwards);
        spec.getRelay().setHost(OpenSshRelay.OTHER_ADDRESS);
        spec.getCheck().setIntervalSeconds(INTERVAL_SECONDS);
        spec.getCheck().setTimeoutSeconds(2);
        ReverseTunnel tunnel = new ReverseTunnel();
        tunnel.setMetadata(new ObjectMetaBuilder().withName("checked").withNamespace("test").build());
        tunnel.setSpec(spec);
        relay.authorize(tunnel.authorizedKeyLine(rig.key().publicKey()));
        agent = rig.closedAfter(new TunnelAgent(report -> { }).start());
        agent.apply(new TunnelConfig(1, spec, rig.identity(), null));
    }

    private ForwardReport awaitReason(String reason) {
        return awaitReason(reason, PATIENCE);
    }

    private ForwardReport awaitReason(String reason, Duration within) {
        await().atMost(within).until(() -> agent.report() != null && !agent.report().forwards().isEmpty()
                && reason.equals(agent.report().forwards().get(0).reason()));
        return agent.report().forwards().get(0);
    }
}
