package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.FallbackRelay;
import dev.jumpgate.api.v1alpha1.FallbackSession;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ForwardReport;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import dev.jumpgate.testing.TcpServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: spec.fallbackRelays against two real sshd relays. The forward asks for port 0: both relays listen on
 * this machine's loopback, where one fixed port could not be held by both while the tunnel moves back (on two
 * machines it can; the ports the relays allocate are what the report and status give).
 */
@Tag("relay")
class RelayFailoverTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private final RelayRig rig = new RelayRig("jumpgate:test/failover");
    private EchoServer target;
    private OpenSshRelay preferred;
    private OpenSshRelay fallback;
    private TunnelAgent agent;

    @BeforeEach
    void twoRelaysAndATarget() {
        target = rig.closedAfter(new EchoServer());
        preferred = rig.relay();
        fallback = rig.relay();
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        rig.close();
    }

    private ReverseTunnelSpec withFallback() {
        ReverseTunnelSpec spec = spec(preferred, forward("ssh", 0, target.port()));
        spec.setFallbackRelays(new ArrayList<>(List.of(
                new FallbackRelay("127.0.0.1", fallback.port(), fallback.user(), List.of(fallback.hostKey())))));
        spec.getReconnect().setFailbackSeconds(5);
        return spec;
    }

    private void run(ReverseTunnelSpec spec) {
        agent = new TunnelAgent(report -> { }).start();
        agent.apply(new TunnelConfig(1, spec, rig.identity(), null));
    }

    /** The relay index and port of the forward when it is bound there; null otherwise. */
    private Integer boundOn(int relay) {
        AgentReport report = agent.report();
        if (report == null || !report.connected() || report.relay() == null || report.relay() != relay) {
            return null;
        }
        ForwardReport ssh = report.forwards().get(0);
        return ssh.state() == ForwardState.Bound ? ssh.remotePort() : null;
    }

    @Test
    void whenThePreferredRelayDiesTheFallbackCarriesTheForwardWithinSeconds() {
        run(withFallback());
        await().atMost(PATIENCE).until(() -> boundOn(0) != null);
        assertThat(EchoClient.echoes(boundOn(0), 4096)).isTrue();

        long died = System.nanoTime();
        preferred.kill();
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20))
                .until(() -> boundOn(1) != null && EchoClient.echoes(boundOn(1), 4096));
        double seconds = (System.nanoTime() - died) / 1e9;
        System.out.printf("failover: traffic through the fallback relay %.2f s after the preferred relay died%n", seconds);

        assertThat(seconds).as("no backoff between a lost relay and the next").isLessThan(5);
        assertThat(agent.report().failover()).contains("127.0.0.1:" + preferred.port(), "was lost");
        assertThat(agent.report().message()).contains("fallback relay 1");
    }

    @Test
    void withAStandbySessionTheFallbackTakesTheTunnelWithoutALogin() {
        ReverseTunnelSpec spec = withFallback();
        spec.setFallbackSession(FallbackSession.Standby);
        run(spec);
        await().atMost(PATIENCE).until(() -> boundOn(0) != null
                && agent.report().message().contains("standby session on"));
        long logins = fallback.connectionsAccepted();

        long died = System.nanoTime();
        preferred.kill();
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20))
                .until(() -> boundOn(1) != null && EchoClient.echoes(boundOn(1), 4096));
        double seconds = (System.nanoTime() - died) / 1e9;
        System.out.printf("failover: traffic through the standby session %.2f s after the preferred relay died%n", seconds);

        assertThat(fallback.connectionsAccepted()).as("no new connection to the fallback relay").isEqualTo(logins);
        assertThat(seconds).isLessThan(5);
    }

    /**
     * A preferred relay that accepts TCP and never speaks SSH: the try to move back to it hangs until the login's
     * timeout (5 s here), off the agent's loop, so that the loss of the relay in use meanwhile moves the tunnel to
     * the next one at once rather than after that timeout.
     */
    @Test
    void aTryOfAPreferredRelayThatNeverAnswersDoesNotHoldUpTheNextFailover() throws Exception {
        AtomicInteger tarpitConnections = new AtomicInteger();
        TcpServer tarpit = rig.closedAfter(new TcpServer("tarpit", 16, socket -> {
            tarpitConnections.incrementAndGet();
            try {
                Thread.sleep(60_000); // says nothing, closes nothing
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        OpenSshRelay third = rig.relay();
        ReverseTunnelSpec spec = spec(preferred, forward("ssh", 0, target.port()));
        spec.getRelay().setPort(tarpit.port());
        spec.setFallbackRelays(new ArrayList<>(List.of(
                new FallbackRelay("127.0.0.1", fallback.port(), fallback.user(), List.of(fallback.hostKey())),
                new FallbackRelay("127.0.0.1", third.port(), third.user(), List.of(third.hostKey())))));
        spec.getReconnect().setFailbackSeconds(5);
        run(spec);
        await().atMost(PATIENCE).until(() -> boundOn(1) != null);
        await().atMost(PATIENCE).until(() -> tarpitConnections.get() >= 2); // the try to move back, hanging now

        long died = System.nanoTime();
        fallback.kill();
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20))
                .until(() -> boundOn(2) != null && EchoClient.echoes(boundOn(2), 4096));
        double seconds = (System.nanoTime() - died) / 1e9;
        System.out.printf("failover during a hanging try of the preferred relay: %.2f s%n", seconds);

        assertThat(seconds).as("not after the hanging login's timeout").isLessThan(3);
    }

    @Test
    void aRelayThatHangsIsLeftOnceItsKeepalivesGoUnanswered() {
        run(withFallback());
        await().atMost(PATIENCE).until(() -> boundOn(0) != null);

        long hung = System.nanoTime();
        preferred.freeze(); // no FIN, no RST: a lost route or a hung machine
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20))
                .until(() -> boundOn(1) != null && EchoClient.echoes(boundOn(1), 4096));
        double seconds = (System.nanoTime() - hung) / 1e9;
        System.out.printf("failover: traffic through the fallback relay %.2f s after the preferred relay hung "
                + "(keepalive every 1 s, 3 unanswered)%n", seconds);
        assertThat(seconds).as("keepalives (3 s) and a login, not a TCP timeout").isLessThan(10);
        preferred.thaw();
    }

    @Test
    void whenThePreferredRelayReturnsTheTunnelMovesBackAndAConnectionOpenThroughTheFallbackLivesOn() throws Exception {
        preferred.kill();
        run(withFallback());
        await().atMost(PATIENCE).until(() -> boundOn(1) != null);
        int onFallback = boundOn(1);

        try (EchoClient session = new EchoClient(onFallback)) {
            assertThat(session.roundTrip(1024)).isTrue();
            preferred.restart();

            await().atMost(PATIENCE).until(() -> boundOn(0) != null);
            assertThat(agent.report().failover()).isNull();
            assertThat(EchoClient.echoes(boundOn(0), 4096)).as("the preferred relay carries new connections").isTrue();
            await().atMost(PATIENCE).until(() -> !OpenSshRelay.listening(onFallback));
            assertThat(session.roundTrip(64 * 1024)).as("the connection opened through the fallback still works")
                    .isTrue();
        }
    }

    @Test
    void aPreferredRelayThatRefusesTheForwardWhenItReturnsLeavesTheTunnelOnTheFallback() {
        preferred.kill();
        run(withFallback());
        await().atMost(PATIENCE).until(() -> boundOn(1) != null);
        int onFallback = boundOn(1);
        // The preferred relay's owner let the key in but forbade every listen.
        preferred.authorize("restrict,port-forwarding,permitlisten=\"127.0.0.1:1\" " + rig.key().publicKey());
        preferred.restart();

        await().atMost(PATIENCE).until(() -> agent.report().failover() != null
                && agent.report().failover().contains("refuses a forward"));
        assertThat(boundOn(1)).as("still on the fallback, on the same port").isEqualTo(onFallback);
        assertThat(EchoClient.echoes(onFallback, 4096)).isTrue();
    }
}
