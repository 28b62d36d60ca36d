package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.api.v1alpha1.FallbackRelay;
import dev.jumpgate.api.v1alpha1.FallbackSession;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import dev.jumpgate.report.AgentReport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tier 1: a tunnel with fallback relays (spec.fallbackRelays) against {@link ScriptedRelay}'s scripted network of
 * relays, the loop driven pass by pass on the test's clock: which relay holds the tunnel, when the agent moves, and
 * that moving never becomes a hot loop. Against real sshd relays: {@code relay/RelayFailoverTest}.
 */
class TunnelAgentFailoverAgainstScriptedRelaysTest {

    private static final String PREFERRED = "relay-a.example";
    private static final String FALLBACK = "relay-b.example";
    private static final String FALLBACK_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFallbackRelayHostKeyPinnedInTheSpec0";

    private final ScriptedRelay relays = new ScriptedRelay();
    private final TestClock clock = new TestClock();
    private final List<AgentReport> reports = new CopyOnWriteArrayList<>();
    private final TunnelAgent agent = new TunnelAgent(reports::add, relays, clock, new Random(42));
    private long generation;

    @BeforeEach
    void relaysAnswerTcpUnlessDown() {
        relays.acceptsTcp = true;
    }

    @Test
    void whenThePreferredRelayIsDownTheFallbackTakesTheTunnelAtOnceAndTheReportSaysWhy() {
        relays.downHosts.add(PREFERRED);
        agent.apply(config(spec()));

        agent.runOnce();
        agent.runOnce(); // no time passes: the fallback is tried without a backoff

        assertThat(relays.logins).isEqualTo(2);
        ScriptedRelay.Session held = relays.session(0);
        assertThat(held.host).isEqualTo(FALLBACK);
        assertThat(held.bound).containsExactly("ssh");
        assertThat(relays.pinsAtLogin.get(1)).as("the fallback's own pinned key, never trust on first use")
                .containsExactly(FALLBACK_KEY);
        AgentReport report = agent.report();
        assertThat(report.connected()).isTrue();
        assertThat(report.relay()).isEqualTo(1);
        assertThat(report.message()).contains("tunnel@" + FALLBACK + ":22", "fallback relay 1");
        assertThat(report.failover()).contains("tunnel@" + PREFERRED + ":22", "connection refused");
    }

    @Test
    void aSessionLostAfterItProvedStableMovesToTheFallbackWithoutWaitingABackoff() {
        agent.apply(config(spec()));
        agent.runOnce();
        clock.advance(Duration.ofSeconds(11));
        agent.runOnce();
        relays.session(0).die();
        relays.downHosts.add(PREFERRED);

        agent.runOnce(); // sees the loss
        agent.runOnce(); // no time passes

        assertThat(relays.sessions).extracting(s -> s.host).containsExactly(PREFERRED, FALLBACK);
        assertThat(relays.session(1).bound).containsExactly("ssh");
        assertThat(agent.report().relay()).isEqualTo(1);
    }

    @Test
    void relaysThatEachLetTheAgentInAndDropItAtOnceAreTriedAfterABackoffNotInAHotLoop() {
        agent.apply(config(spec()));
        agent.runOnce();
        relays.session(0).die();
        agent.runOnce();
        agent.runOnce();
        assertThat(relays.sessions).extracting(s -> s.host).as("the first quick loss: the fallback at once")
                .containsExactly(PREFERRED, FALLBACK);

        relays.session(1).die();
        agent.runOnce();
        agent.runOnce();
        agent.runOnce();

        assertThat(relays.logins).as("a second loss before any session lasted 10 s: no login before the backoff")
                .isEqualTo(2);
        assertThat(agent.report().relay()).as("the preferred relay is next").isZero();
        clock.advance(Duration.ofSeconds(1).plusMillis(1));
        agent.runOnce();
        assertThat(relays.sessions).extracting(s -> s.host).containsExactly(PREFERRED, FALLBACK, PREFERRED);
    }

    @Test
    void whenEveryRelayFailsTheAgentTriesEachOnceThenBacksOff() {
        relays.downHosts.addAll(List.of(PREFERRED, FALLBACK));
        agent.apply(config(spec()));

        for (int pass = 0; pass < 5; pass++) {
            agent.runOnce();
        }

        assertThat(relays.logins).as("one round: the preferred relay, then the fallback").isEqualTo(2);
        AgentReport report = agent.report();
        assertThat(report.connected()).isFalse();
        assertThat(report.reason()).isEqualTo(Reasons.RELAY_UNREACHABLE);
        assertThat(report.relay()).as("the next round starts at the preferred relay").isZero();
        assertThat(report.nextAttempt()).isNotNull();
    }

    @Test
    void onAFallbackTheAgentTriesThePreferredRelayEveryFailbackSecondsAndMovesBackBeforeLettingTheFallbackGo() {
        relays.downHosts.add(PREFERRED);
        agent.apply(config(spec()));
        agent.runOnce();
        agent.runOnce();
        ScriptedRelay.Session fallback = relays.session(0);
        fallback.openConnections = 1; // someone's ssh session through the fallback
        relays.downHosts.remove(PREFERRED);

        clock.advance(Duration.ofSeconds(29));
        agent.runOnce();
        assertThat(relays.logins).as("not before failbackSeconds (30)").isEqualTo(2);

        clock.advance(Duration.ofSeconds(2));
        agent.runOnce();

        ScriptedRelay.Session preferred = relays.session(1);
        assertThat(preferred.host).isEqualTo(PREFERRED);
        assertThat(preferred.bound).containsExactly("ssh");
        assertThat(fallback.cancelled).as("the fallback stops listening").containsExactly("ssh");
        assertThat(fallback.closedByAgent()).as("but keeps the connection open through it").isFalse();
        AgentReport report = agent.report();
        assertThat(report.relay()).isZero();
        assertThat(report.failover()).isNull();
        assertThat(report.connected()).isTrue();
        assertThat(report.message()).contains("back on the preferred relay");

        fallback.openConnections = 0;
        agent.runOnce();
        assertThat(fallback.closedByAgent()).as("closed once its last connection ended").isTrue();
        assertThat(preferred.closedByAgent()).isFalse();
    }

    @Test
    void aPreferredRelayThatIsBackButRefusesAForwardDoesNotTakeTheTunnelFromTheFallback() {
        relays.downHosts.add(PREFERRED);
        agent.apply(config(spec()));
        agent.runOnce();
        agent.runOnce();
        ScriptedRelay.Session fallback = relays.session(0);
        relays.downHosts.remove(PREFERRED);
        relays.refuseListensOn(4022); // the preferred relay's line for the key, from now on

        clock.advance(Duration.ofSeconds(31));
        agent.runOnce();

        ScriptedRelay.Session tried = relays.session(1);
        assertThat(tried.host).isEqualTo(PREFERRED);
        assertThat(tried.closedByAgent()).isTrue();
        assertThat(fallback.cancelled).as("the fallback keeps listening").isEmpty();
        assertThat(fallback.closedByAgent()).isFalse();
        assertThat(agent.report().relay()).isEqualTo(1);
        assertThat(agent.report().failover()).contains("the preferred relay tunnel@" + PREFERRED + ":22",
                "refuses a forward");

        clock.advance(Duration.ofSeconds(10));
        agent.runOnce();
        assertThat(relays.logins).as("the next try after failbackSeconds again, not at once").isEqualTo(3);
    }

    @Test
    void aFallbackRelayTakenOutOfTheSpecSendsTheTunnelBackToThePreferredRelay() {
        relays.downHosts.add(PREFERRED);
        agent.apply(config(spec()));
        agent.runOnce();
        agent.runOnce();
        relays.downHosts.remove(PREFERRED);
        ReverseTunnelSpec alone = spec();
        alone.setFallbackRelays(null);

        agent.apply(config(alone));
        agent.runOnce();

        assertThat(relays.session(0).closedByAgent()).isTrue();
        assertThat(relays.session(1).host).isEqualTo(PREFERRED);
        assertThat(agent.report().relay()).as("a tunnel with one relay reports no index").isNull();
    }

    @Test
    void withAStandbySessionTheFallbackTakesTheLostTunnelWithoutALogin() {
        agent.apply(config(standby()));
        agent.runOnce();
        assertThat(relays.sessions).extracting(s -> s.host).as("the tunnel's session, then the standby")
                .containsExactly(PREFERRED, FALLBACK);
        ScriptedRelay.Session waiting = relays.session(1);
        assertThat(waiting.bound).as("idle: nothing listens on the fallback").isEmpty();
        assertThat(agent.report().message()).contains("standby session on tunnel@" + FALLBACK + ":22");

        relays.session(0).die();
        agent.runOnce();

        assertThat(relays.logins).as("no login at the failover").isEqualTo(2);
        assertThat(waiting.bound).containsExactly("ssh");
        assertThat(agent.report().relay()).isEqualTo(1);
        assertThat(agent.report().connected()).isTrue();
    }

    @Test
    void aLostStandbySessionIsOpenedAgainAfterFailbackSecondsNotAtOnce() {
        agent.apply(config(standby()));
        agent.runOnce();
        relays.session(1).die();

        agent.runOnce();
        assertThat(relays.session(1).closedByAgent()).isTrue();
        assertThat(relays.logins).isEqualTo(2);
        clock.advance(Duration.ofSeconds(31));
        agent.runOnce();
        assertThat(relays.logins).isEqualTo(3);
        assertThat(relays.session(2).host).isEqualTo(FALLBACK);
    }

    @Test
    void backOnThePreferredRelayTheSessionLeftOnTheFallbackIsTheStandbyAndNoNewLoginIsMade() {
        relays.downHosts.add(PREFERRED);
        agent.apply(config(standby()));
        agent.runOnce();
        agent.runOnce();
        ScriptedRelay.Session fallback = relays.session(0);
        relays.downHosts.remove(PREFERRED);
        clock.advance(Duration.ofSeconds(31));
        agent.runOnce(); // moves back
        agent.runOnce();
        assertThat(relays.logins).as("preferred refused, fallback, preferred again: nothing more").isEqualTo(3);
        assertThat(fallback.cancelled).containsExactly("ssh");
        assertThat(fallback.closedByAgent()).isFalse();

        relays.session(1).die();
        agent.runOnce();
        assertThat(fallback.bound).as("bound, cancelled, bound again on the same session").containsExactly("ssh", "ssh");
        assertThat(relays.logins).isEqualTo(3);
    }

    /** {@link #spec()} with a standby session to the fallback relay. */
    private static ReverseTunnelSpec standby() {
        ReverseTunnelSpec spec = spec();
        spec.setFallbackSession(FallbackSession.Standby);
        return spec;
    }

    private TunnelConfig config(ReverseTunnelSpec spec) {
        return new TunnelConfig(++generation, spec,
                Identity.of("test", "not read by a scripted relay".getBytes(StandardCharsets.US_ASCII)), null);
    }

    /** A tunnel on relay-a with relay-b as its fallback, one forward, backoff from 1 s. */
    private static ReverseTunnelSpec spec() {
        ReverseTunnelSpec spec = new ReverseTunnelSpec();
        spec.getRelay().setHost(PREFERRED);
        spec.getRelay().setUser("tunnel");
        spec.setFallbackRelays(new ArrayList<>(List.of(new FallbackRelay(FALLBACK, 22, "tunnel", List.of(FALLBACK_KEY)))));
        spec.getReconnect().setMinBackoffSeconds(1);
        spec.getReconnect().setMaxBackoffSeconds(30);
        spec.setForwards(new ArrayList<>(List.of(new ForwardSpec("ssh", new RemoteEndpoint(RemoteEndpoint.LOOPBACK, 4022),
                new TargetEndpoint("127.0.0.1", 22)))));
        return spec;
    }
}
