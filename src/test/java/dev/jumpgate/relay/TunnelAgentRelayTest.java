package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.jcraft.jsch.Channel;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ForwardReport;
import dev.jumpgate.ssh.AuthorizedKeyLine;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.ssh.PublicKeyLine;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Tier 2: the agent against a stock OpenSSH sshd on loopback, with a key the operator's generator made. */
@Tag("relay")
class TunnelAgentRelayTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private final RelayRig rig = new RelayRig("jumpgate:test/agent");
    private final List<AgentReport> reports = new CopyOnWriteArrayList<>();
    private EchoServer target;
    private TunnelAgent agent;

    @BeforeEach
    void target() {
        target = new EchoServer();
        rig.closedAfter(target);
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        rig.close();
    }

    private void run(ReverseTunnelSpec spec) {
        agent = new TunnelAgent(reports::add).start();
        agent.apply(new TunnelConfig(1, spec, rig.identity(), null));
    }

    private ForwardReport forwardReport(String name) {
        AgentReport report = agent.report();
        return report == null ? null
                : report.forwards().stream().filter(f -> f.name().equals(name)).findFirst().orElse(null);
    }

    private ForwardReport awaitBound(String name) {
        await().atMost(PATIENCE).until(() -> forwardReport(name) != null && forwardReport(name).state() == ForwardState.Bound);
        return forwardReport(name);
    }

    /**
     * The agent reports the failure, then leaves the relay alone for seconds: long enough for a tight loop to show
     * itself in sshd's log, while the spec's cap of 30 s holds the next attempt back.
     */
    private void awaitReasonAndNoRetryForAWhile(OpenSshRelay relay, String reason) {
        await().atMost(PATIENCE).until(() -> agent.report() != null && reason.equals(agent.report().reason()));
        long attempts = relay.connectionsAccepted();
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4))
                .until(() -> relay.connectionsAccepted() == attempts);
    }

    @Test
    void bytesCrossTheForwardBothWays() throws Exception {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        run(spec(relay, forward("ssh", port, target.port())));

        ForwardReport bound = awaitBound("ssh");

        assertThat(bound.remotePort()).isEqualTo(port);
        assertThat(agent.report().connected()).isTrue();
        assertThat(agent.report().fingerprint()).isEqualTo(PublicKeyLine.parse(relay.hostKey()).fingerprint());
        assertThat(EchoClient.echoes(port, 1 << 20)).isTrue();
        assertThat(agent.traffic().get("ssh").bytesToTarget()).isGreaterThanOrEqualTo(1 << 20);
        assertThat(agent.traffic().get("ssh").bytesFromTarget()).isGreaterThanOrEqualTo(1 << 20);
        await().atMost(PATIENCE).until(() -> agent.traffic().get("ssh").openConnections() == 0);
    }

    @Test
    void portZeroReportsThePortTheRelayAllocated() {
        OpenSshRelay relay = rig.relay();
        run(spec(relay, forward("any", 0, target.port())));

        ForwardReport bound = awaitBound("any");

        assertThat(bound.requestedPort()).isZero();
        assertThat(bound.remotePort()).isPositive();
        assertThat(EchoClient.echoes(bound.remotePort(), 1000)).isTrue();
    }

    @Test
    void aWrongPinnedHostKeyIsRefusedReportedAndNotRetriedInALoop() throws Exception {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        ReverseTunnelSpec spec = spec(relay, forward("ssh", port, target.port()));
        spec.getRelay().setHostKeys(new ArrayList<>(List.of(Ed25519KeyPair.generate("impostor").publicKey().toString())));
        spec.getReconnect().setMaxBackoffSeconds(30);
        run(spec);

        awaitReasonAndNoRetryForAWhile(relay, Reasons.HOST_KEY_MISMATCH);

        AgentReport report = agent.report();
        assertThat(report.connected()).isFalse();
        assertThat(report.fingerprint()).isEqualTo(PublicKeyLine.parse(relay.hostKey()).fingerprint());
        assertThat(report.message()).contains(report.fingerprint());
        assertThat(report.forwards()).singleElement().extracting(ForwardReport::state).isEqualTo(ForwardState.Pending);
        assertThat(OpenSshRelay.listening(port)).isFalse();
    }

    @Test
    void aRefusedLoginIsRetriedOnlyAfterTheLongestWait() {
        OpenSshRelay relay = rig.relay();
        relay.authorize(Ed25519KeyPair.generate("someone else").publicKey().toString());
        ReverseTunnelSpec spec = spec(relay, forward("ssh", OpenSshRelay.freePort(), target.port()));
        spec.getReconnect().setMaxBackoffSeconds(30);
        run(spec);

        awaitReasonAndNoRetryForAWhile(relay, Reasons.AUTHENTICATION_FAILED);
        assertThat(agent.report().message()).contains("authorized_keys");
    }

    @Test
    void aKeyTrustedOnFirstUseIsRequiredFromThenOn() throws Exception {
        OpenSshRelay relay = rig.relay();
        ReverseTunnelSpec spec = spec(relay, forward("ssh", OpenSshRelay.freePort(), target.port()));
        spec.getRelay().setHostKeys(new ArrayList<>());
        spec.getRelay().setHostKeyPolicy(HostKeyPolicy.AcceptNew);
        run(spec);
        awaitBound("ssh");
        assertThat(PublicKeyLine.parse(agent.report().hostKey()).sameKey(PublicKeyLine.parse(relay.hostKey()))).isTrue();
        String trusted = agent.report().fingerprint();

        relay.kill();
        relay.newHostKey();
        relay.restart();

        await().atMost(PATIENCE).until(() -> Reasons.HOST_KEY_MISMATCH.equals(agent.report().reason()));
        assertThat(agent.report().fingerprint()).isNotEqualTo(trusted)
                .isEqualTo(PublicKeyLine.parse(relay.hostKey()).fingerprint());
    }

    @Test
    void theAuthorizedKeyLineLetsTheKeyListenWhereTheTunnelListensAndNothingElse() throws Exception {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        relay.authorize(AuthorizedKeyLine.of(rig.key().publicKey(), "127.0.0.1", List.of(new AuthorizedKeyLine.Listen("127.0.0.1", port)), "test"));
        run(spec(relay, forward("ssh", port, target.port()), forward("other", OpenSshRelay.freePort(), target.port())));

        awaitBound("ssh");
        await().atMost(PATIENCE).until(() -> forwardReport("other").state() == ForwardState.Failed);
        assertThat(EchoClient.echoes(port, 1000)).isTrue();

        // The same key, used as a laptop would use a stolen one: ssh -L to something the relay reaches.
        JSch jsch = new JSch();
        jsch.addIdentity("stolen", rig.key().privateKeyPem().getBytes(StandardCharsets.US_ASCII), null, null);
        Session session = jsch.getSession(relay.user(), "127.0.0.1", relay.port());
        session.setConfig("StrictHostKeyChecking", "no");
        session.connect(5_000);
        try {
            Channel direct = session.getStreamForwarder("127.0.0.1", target.port());
            assertThatThrownBy(() -> direct.connect(5_000)).isInstanceOf(JSchException.class);
        } finally {
            session.disconnect();
        }
    }

    @Test
    void aRefusedForwardIsRetriedUntilTheRelayLetsItListenWhileTheOtherStaysUp() throws Exception {
        OpenSshRelay relay = rig.relay();
        int busy = OpenSshRelay.freePort();
        int other = OpenSshRelay.freePort();
        try (ServerSocket squatter = new ServerSocket(busy, 1, InetAddress.getLoopbackAddress())) {
            run(spec(relay, forward("busy", busy, target.port()), forward("other", other, target.port())));
            await().atMost(PATIENCE).until(() -> forwardReport("busy") != null
                    && forwardReport("busy").state() == ForwardState.Failed);
            awaitBound("other");
        }

        awaitBound("busy");
        assertThat(EchoClient.echoes(busy, 1000)).isTrue();
        assertThat(EchoClient.echoes(other, 1000)).isTrue();
        assertThat(agent.report().reconnects()).isZero();
    }

    @Test
    void aKilledRelayIsReconnectedAndTheForwardCarriesTrafficAgain() {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        run(spec(relay, forward("ssh", port, target.port())));
        awaitBound("ssh");
        assertThat(EchoClient.echoes(port, 1000)).isTrue();

        relay.kill();
        await().atMost(PATIENCE).until(() -> !agent.report().connected());
        assertThat(agent.report().forwards()).singleElement().extracting(ForwardReport::state)
                .isEqualTo(ForwardState.Pending);
        relay.restart();

        awaitBound("ssh");
        assertThat(EchoClient.echoes(port, 1000)).isTrue();
        assertThat(agent.report().reconnects()).isEqualTo(1);
    }

    @Test
    void aRelayBackAfterALongOutageIsUsedAtOnceNotAtTheEndOfTheBackoff() {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        ReverseTunnelSpec spec = spec(relay, forward("ssh", port, target.port()));
        spec.getReconnect().setMaxBackoffSeconds(30);
        run(spec);
        awaitBound("ssh");

        relay.kill();
        // Down until the agent's next attempt is more than 4 s away (after attempts about 1, 2 and 4 s apart).
        await().atMost(PATIENCE).until(() -> secondsToNextAttempt(agent.report()) > 4);
        relay.restart();
        long back = System.nanoTime();
        Duration backoffLeft = Duration.between(Instant.now(), Instant.parse(agent.report().nextAttempt()));

        awaitBound("ssh");
        assertThat(Duration.ofNanos(System.nanoTime() - back)).isLessThan(Duration.ofSeconds(2))
                .isLessThan(backoffLeft);
        assertThat(EchoClient.echoes(port, 1000)).isTrue();
    }

    private static double secondsToNextAttempt(AgentReport report) {
        return report.nextAttempt() == null ? 0
                : Duration.between(Instant.now(), Instant.parse(report.nextAttempt())).toMillis() / 1000.0;
    }

    @Test
    void aFrozenRelayIsDeclaredDeadAfterTheKeepaliveWindowAndReconnectedWhenItThaws() {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        run(spec(relay, forward("ssh", port, target.port()))); // keepalive 1 s x 3
        awaitBound("ssh");

        relay.freeze();
        long frozenAt = System.nanoTime();
        await().atMost(PATIENCE).until(() -> !agent.report().connected());
        Duration noticed = Duration.ofNanos(System.nanoTime() - frozenAt);
        relay.thaw();

        // interval x countMax = 3 s declares the relay dead, as ServerAliveInterval x ServerAliveCountMax does for ssh;
        // our 200 ms poll and scheduling on top.
        assertThat(noticed).isBetween(Duration.ofMillis(2_500), Duration.ofMillis(4_500));
        assertThat(agent.report().reason()).isEqualTo(Reasons.RELAY_UNREACHABLE);
        awaitBound("ssh");
        assertThat(EchoClient.echoes(port, 1000)).isTrue();
    }

    @Test
    void stoppingTheAgentCancelsItsForwardsOnTheRelay() {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        run(spec(relay, forward("ssh", port, target.port())));
        awaitBound("ssh");
        assertThat(OpenSshRelay.listening(port)).isTrue();

        agent.close();

        await().atMost(PATIENCE).until(() -> !OpenSshRelay.listening(port));
        assertThat(reports.get(reports.size() - 1).connected()).isFalse();
    }

    @Test
    void aPortTheRelayRefusesFailsAloneWhileTheOtherForwardWorks() {
        int allowed = OpenSshRelay.freePort();
        int refused = OpenSshRelay.freePort();
        OpenSshRelay relay = rig.relay("PermitListen 127.0.0.1:" + allowed);
        run(spec(relay, forward("allowed", allowed, target.port()), forward("refused", refused, target.port())));

        awaitBound("allowed");
        await().atMost(PATIENCE).until(() -> forwardReport("refused").state() == ForwardState.Failed);

        // The relay's own PermitListen refuses it; the agent cannot tell that from an outdated line, and says both.
        assertThat(forwardReport("refused").reason()).isEqualTo(Reasons.AUTHORIZED_KEY_OUTDATED);
        assertThat(forwardReport("refused").message()).contains("PermitListen");
        assertThat(forwardReport("refused").message()).contains("127.0.0.1:" + refused);
        assertThat(EchoClient.echoes(allowed, 1000)).isTrue();
        assertThat(agent.report().connected()).isTrue();
        assertThat(agent.report().allForwardsBound()).isFalse();
    }

    @Test
    void forwardsAddedAndRemovedLiveLeaveAnOpenConnectionThroughAnotherFlowing() throws Exception {
        OpenSshRelay relay = rig.relay();
        int kept = OpenSshRelay.freePort();
        int removed = OpenSshRelay.freePort();
        int added = OpenSshRelay.freePort();
        ReverseTunnelSpec before = spec(relay, forward("kept", kept, target.port()), forward("removed", removed, target.port()));
        run(before);
        awaitBound("kept");
        awaitBound("removed");

        try (EchoClient open = new EchoClient(kept)) {
            assertThat(open.roundTrip(1000)).isTrue();

            agent.apply(new TunnelConfig(2, spec(relay, forward("kept", kept, target.port()),
                    forward("added", added, target.port())), rig.identity(), null));
            awaitBound("added");
            await().atMost(PATIENCE).until(() -> !OpenSshRelay.listening(removed));

            assertThat(open.roundTrip(100_000)).isTrue();
            assertThat(EchoClient.echoes(added, 1000)).isTrue();
            assertThat(agent.report().generation()).isEqualTo(2);
            assertThat(agent.report().forwards()).extracting(ForwardReport::name).containsExactly("kept", "added");
            assertThat(agent.report().reconnects()).isZero();
        }
    }

    @Test
    void aForwardAddedBeforeTheRelayHasItsLineSaysSoThenBindsWithoutTouchingTheOthers() throws Exception {
        OpenSshRelay relay = rig.relay();
        int kept = OpenSshRelay.freePort();
        int added = OpenSshRelay.freePort();
        AuthorizedKeyLine.Listen keptListen = new AuthorizedKeyLine.Listen("127.0.0.1", kept);
        relay.authorize(AuthorizedKeyLine.of(rig.key().publicKey(), "127.0.0.1", List.of(keptListen), "test"));
        run(spec(relay, forward("kept", kept, target.port())));
        awaitBound("kept");

        try (EchoClient open = new EchoClient(kept)) {
            assertThat(open.roundTrip(1000)).isTrue();
            agent.apply(new TunnelConfig(2, spec(relay, forward("kept", kept, target.port()),
                    forward("added", added, target.port())), rig.identity(), null));
            await().atMost(PATIENCE).until(() -> forwardReport("added") != null
                    && forwardReport("added").state() == ForwardState.Failed);
            assertThat(forwardReport("added").reason()).isEqualTo(Reasons.AUTHORIZED_KEY_OUTDATED);
            assertThat(forwardReport("added").message()).contains("127.0.0.1:" + added, "status.authorizedKey");

            // The relay owner installs the tunnel's new line.
            relay.authorize(AuthorizedKeyLine.of(rig.key().publicKey(), "127.0.0.1",
                    List.of(keptListen, new AuthorizedKeyLine.Listen("127.0.0.1", added)), "test"));

            awaitBound("added");
            assertThat(EchoClient.echoes(added, 1000)).isTrue();
            assertThat(open.roundTrip(100_000)).isTrue();
            assertThat(agent.report().reconnects()).isZero();
        }
    }

    @Test
    void aForwardThatHasListenedBeforeAndIsRefusedNowIsABusyPortNotAnOutdatedLine() throws Exception {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        run(spec(relay, forward("ssh", port, target.port())));
        awaitBound("ssh");
        agent.apply(new TunnelConfig(2, spec(relay), rig.identity(), null));
        await().atMost(PATIENCE).until(() -> !OpenSshRelay.listening(port));

        try (ServerSocket squatter = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            agent.apply(new TunnelConfig(3, spec(relay, forward("ssh", port, target.port())), rig.identity(), null));
            await().atMost(PATIENCE).until(() -> forwardReport("ssh") != null
                    && forwardReport("ssh").state() == ForwardState.Failed);
            assertThat(forwardReport("ssh").reason()).isEqualTo(Reasons.FORWARD_REFUSED);
        }
        awaitBound("ssh");
    }

    @Test
    void theAgentTellsWhetherTheRelayRunsCommandsForItsKey() {
        OpenSshRelay bareLine = OpenSshRelay.withoutRecommendedBlock();
        rig.closedAfter(bareLine);
        bareLine.authorize(rig.key().publicKey().toString());
        assertThat(keyCheckOn(bareLine)).isTrue();

        OpenSshRelay lineWithOptions = OpenSshRelay.withoutRecommendedBlock();
        rig.closedAfter(lineWithOptions);
        lineWithOptions.authorize(AuthorizedKeyLine.of(rig.key().publicKey(), "127.0.0.1", List.of(), "test"));
        assertThat(keyCheckOn(lineWithOptions)).isFalse();

        // The bare line, but sshd forces the command for the tunnel user.
        assertThat(keyCheckOn(rig.relay())).isFalse();
    }

    /** What a fresh agent's check of its key on this relay finds; the agent is stopped after. */
    private Boolean keyCheckOn(OpenSshRelay relay) {
        run(spec(relay));
        await().atMost(PATIENCE).until(() -> agent.report() != null && agent.report().relayRunsCommands() != null);
        Boolean runs = agent.report().relayRunsCommands();
        agent.close();
        return runs;
    }

    @Test
    void aForwardRefusesConnectionsPastItsCapSaysSoAndTheOtherForwardStaysServed() throws Exception {
        OpenSshRelay relay = rig.relay();
        int web = OpenSshRelay.freePort();
        int ssh = OpenSshRelay.freePort();
        ReverseTunnelSpec spec = spec(relay, forward("web", web, target.port()), forward("ssh", ssh, target.port()));
        spec.getForwards().get(0).setMaxConnections(5);
        run(spec);
        awaitBound("web");
        awaitBound("ssh");

        List<EchoClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                EchoClient client = new EchoClient(web);
                held.add(client);
                assertThat(client.roundTrip(1000)).isTrue();
            }
            // The sixth: the relay accepts it, the agent refuses its channel, the relay closes it.
            assertThat(EchoClient.echoes(web, 1000)).isFalse();
            assertThat(agent.traffic().get("web").refusedConnections()).isEqualTo(1);
            await().atMost(PATIENCE).until(() -> forwardReport("web").refusedConnections() == 1);
            assertThat(EchoClient.echoes(ssh, 1000)).isTrue();
            assertThat(held.get(0).roundTrip(1000)).isTrue();

            held.remove(0).close();
            await().atMost(PATIENCE).until(() -> agent.traffic().get("web").openConnections() == 4);
            assertThat(EchoClient.echoes(web, 1000)).isTrue();
        } finally {
            for (EchoClient client : held) {
                client.close();
            }
        }
    }

    @Test
    void aLostSessionGivesBackThePlacesOfItsConnections() throws Exception {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        ReverseTunnelSpec spec = spec(relay, forward("web", port, target.port()));
        spec.getForwards().get(0).setMaxConnections(3);
        run(spec);
        awaitBound("web");
        List<EchoClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                held.add(new EchoClient(port));
                assertThat(held.get(i).roundTrip(1000)).isTrue();
            }

            relay.kill();
            await().atMost(PATIENCE).until(() -> !agent.report().connected());
            await().atMost(PATIENCE).until(() -> agent.traffic().get("web").openConnections() == 0);
            relay.restart();
            awaitBound("web");

            for (int i = 0; i < 3; i++) {
                EchoClient client = new EchoClient(port);
                held.add(client);
                assertThat(client.roundTrip(1000)).as("connection %d after the session came back", i + 1).isTrue();
            }
            assertThat(agent.traffic().get("web").refusedConnections()).isZero();
        } finally {
            for (EchoClient client : held) {
                client.close();
            }
        }
    }

    @Test
    void twoHundredConcurrentConnectionsThroughOneForwardAllSucceed() throws Exception {
        OpenSshRelay relay = rig.relay();
        int port = OpenSshRelay.freePort();
        run(spec(relay, forward("ssh", port, target.port())));
        awaitBound("ssh");

        ExecutorService pool = Executors.newFixedThreadPool(200);
        try {
            List<Callable<Boolean>> connections = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                connections.add(() -> EchoClient.echoes(port, 64 * 1024));
            }
            List<Future<Boolean>> results = pool.invokeAll(connections);
            long succeeded = 0;
            for (Future<Boolean> result : results) {
                succeeded += result.get() ? 1 : 0;
            }
            assertThat(succeeded).isEqualTo(200);
            assertThat(agent.traffic().get("ssh").connections()).isEqualTo(200);
        } finally {
            pool.shutdownNow();
        }
    }
}
