package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ForwardReport;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Tier 1: the agent's reconnect, backoff and forward logic against {@link ScriptedRelay}, its loop driven pass by
 * pass on the test's thread and clock, so that each case takes milliseconds and no wait depends on the machine. The
 * same behaviour against a real sshd, through JSch, is in {@code relay/TunnelAgentRelayTest}.
 */
class TunnelAgentAgainstAScriptedRelayTest {

    private final ScriptedRelay relay = new ScriptedRelay();
    private final TestClock clock = new TestClock();
    private final List<AgentReport> reports = new CopyOnWriteArrayList<>();
    private final TunnelAgent agent = new TunnelAgent(reports::add, relay, clock, new Random(42));
    private long generation;

    @Test
    void connectsBindsEveryForwardAndReportsThePortsTheRelayListensOn() {
        agent.apply(config(spec(5, 30, forward("ssh", 4022), forward("web", 0))));
        agent.runOnce();

        AgentReport report = agent.report();
        assertThat(report.connected()).isTrue();
        assertThat(report.reason()).isEqualTo(Reasons.CONNECTED);
        assertThat(report.fingerprint()).isEqualTo(ScriptedRelay.HOST_KEY.fingerprint());
        assertThat(report.forwards()).extracting(ForwardReport::name, ForwardReport::state, ForwardReport::remotePort)
                .containsExactly(tuple("ssh", ForwardState.Bound, 4022),
                        tuple("web", ForwardState.Bound,
                                ScriptedRelay.FIRST_ALLOCATED_PORT));
        assertThat(relay.logins).isEqualTo(1);
    }

    @Test
    void aLostSessionIsReportedAtOnceAndReopenedOnlyAfterItsBackoff() {
        agent.apply(config(spec(1, 30, forward("ssh", 4022))));
        agent.runOnce();
        relay.session(0).die();

        agent.runOnce();
        assertThat(agent.report().connected()).isFalse();
        assertThat(agent.report().reason()).isEqualTo(Reasons.RELAY_UNREACHABLE);
        assertThat(agent.report().forwards()).extracting(ForwardReport::state).containsExactly(ForwardState.Pending);

        clock.advance(Duration.ofMillis(400)); // the first backoff is drawn from 0.5-1 s (minBackoffSeconds 1)
        agent.runOnce();
        assertThat(relay.logins).as("no login before the backoff ends").isEqualTo(1);

        clock.advance(Duration.ofMillis(700));
        agent.runOnce();
        assertThat(relay.logins).isEqualTo(2);
        assertThat(relay.session(0).closedByAgent()).as("the lost session let go of").isTrue();
        assertThat(relay.session(1).bound).containsExactly("ssh");
        assertThat(agent.report().connected()).isTrue();
        assertThat(agent.report().reconnects()).isEqualTo(1);
    }

    @Test
    void aRelayThatRefusedConnectionsIsUsedAsSoonAsItAcceptsThemNotAtTheEndOfTheBackoff() {
        agent.apply(config(spec(20, 60, forward("ssh", 4022))));
        relay.failNextLogins(refused(), refused());
        agent.runOnce();
        clock.advance(Duration.ofSeconds(20).plusMillis(1));
        agent.runOnce();
        assertThat(relay.logins).isEqualTo(2); // the second backoff is 20-40 s from here

        agent.runOnce();
        assertThat(relay.logins).as("probes only, while the relay's host refuses").isEqualTo(2);
        assertThat(relay.tcpProbes).isPositive();

        relay.acceptsTcp = true;
        agent.runOnce();
        assertThat(relay.logins).isEqualTo(3);
        assertThat(agent.report().connected()).isTrue();
    }

    @Test
    void aFailureOnlyAChangeCanFixIsRetriedOnlyAfterAboutTheLongestBackoff() {
        agent.apply(config(spec(1, 20, forward("ssh", 4022))));
        relay.failNextLogins(new RelayFailure(Reasons.AUTHENTICATION_FAILED, "the relay refused the key", false, null));
        agent.runOnce();
        assertThat(agent.report().reason()).isEqualTo(Reasons.AUTHENTICATION_FAILED);
        assertThat(Duration.between(clock.instant(), Instant.parse(agent.report().nextAttempt())))
                .as("the report tells when the next attempt comes").isBetween(Duration.ofSeconds(15), Duration.ofSeconds(20));

        clock.advance(Duration.ofSeconds(14)); // the cap's upper quarter: 15-20 s
        agent.runOnce();
        assertThat(relay.logins).isEqualTo(1);

        clock.advance(Duration.ofSeconds(6).plusMillis(1));
        agent.runOnce();
        assertThat(relay.logins).isEqualTo(2);
        assertThat(agent.report().reason()).isEqualTo(Reasons.CONNECTED);
        assertThat(agent.report().nextAttempt()).as("no next attempt while connected").isNull();
    }

    @Test
    void aChangedForwardListTouchesOnlyTheForwardsThatChangedOnTheSameSession() {
        agent.apply(config(spec(1, 30, forward("a", 4001), forward("b", 4002), forward("c", 4003))));
        agent.runOnce();

        agent.apply(config(spec(1, 30, forward("a", 4001), forward("b", 4012), forward("d", 4004))));
        agent.runOnce();

        ScriptedRelay.Session session = relay.session(0);
        assertThat(relay.sessions).hasSize(1);
        assertThat(session.cancelled).containsExactlyInAnyOrder("b", "c");
        assertThat(session.bound).containsExactly("a", "b", "c", "b", "d");
        assertThat(agent.report().forwards()).extracting(ForwardReport::name, ForwardReport::remotePort)
                .containsExactly(tuple("a", 4001),
                        tuple("b", 4012), tuple("d", 4004));
    }

    @Test
    void aChangedRelayOpensANewSessionAtOnceAndClosesTheOld() {
        ReverseTunnelSpec spec = spec(5, 30, forward("ssh", 4022));
        agent.apply(config(spec));
        agent.runOnce();

        ReverseTunnelSpec moved = spec(5, 30, forward("ssh", 4022));
        moved.getRelay().setHost("relay-2.example");
        agent.apply(config(moved));
        agent.runOnce();

        assertThat(relay.session(0).closedByAgent()).isTrue();
        assertThat(relay.sessions).hasSize(2);
        assertThat(relay.session(1).bound).containsExactly("ssh");
        assertThat(agent.report().reconnects()).isEqualTo(1);
    }

    @Test
    void aForwardTheSessionKeepsRefusingIsBoundOnASideSessionOnceTheRelayHasItsLine() {
        relay.refuseListensOn(4002);
        agent.apply(config(spec(1, 30, forward("a", 4001), forward("b", 4002))));
        agent.runOnce();
        assertThat(forwardReport("b").reason()).isEqualTo(Reasons.AUTHORIZED_KEY_OUTDATED);
        assertThat(forwardReport("a").state()).isEqualTo(ForwardState.Bound);

        relay.refuseListensOn(); // the relay's owner installs the tunnel's new line
        clock.advance(Duration.ofSeconds(2));
        agent.runOnce();

        assertThat(relay.sessions).as("the first session, and a side session for b").hasSize(2);
        assertThat(relay.session(0).bound).containsExactly("a");
        assertThat(relay.session(1).bound).containsExactly("b");
        assertThat(forwardReport("b").state()).isEqualTo(ForwardState.Bound);

        relay.session(1).die(); // b is tried on the first session again, refused there, then on a new side session
        agent.runOnce();
        clock.advance(Duration.ofSeconds(2));
        agent.runOnce();
        assertThat(relay.sessions).as("b bound again on a side session of its own").hasSize(3);
        assertThat(relay.session(2).bound).containsExactly("b");
        assertThat(relay.session(1).closedByAgent()).as("the lost side session let go of").isTrue();
        assertThat(relay.session(0).cancelled).isEmpty();
        assertThat(relay.session(0).closedByAgent()).isFalse();
    }

    @Test
    void aPortThatListenedBeforeAndIsRefusedNowIsReportedBusyNotAsAnOutdatedLine() {
        agent.apply(config(spec(1, 30, forward("a", 4001))));
        agent.runOnce();
        relay.refuseListensOn(4001);
        relay.session(0).die();
        clock.advance(Duration.ofSeconds(1));
        agent.runOnce();
        clock.advance(Duration.ofSeconds(1));
        agent.runOnce();

        assertThat(relay.sessions).hasSize(2);
        assertThat(forwardReport("a").reason()).isEqualTo(Reasons.FORWARD_REFUSED);
    }

    @Test
    void aListenTheLostSessionHeldIsAskedForAgainEveryHalfSecondWithoutALoginUntilTheRelayLetsItGo() {
        agent.apply(config(spec(1, 30, forward("a", 4001))));
        agent.runOnce();
        relay.holdElsewhere(4001); // the relay has not found the lost session dead yet: it keeps its listen
        relay.session(0).die();
        agent.runOnce(); // the loss seen; a login again after the first backoff
        clock.advance(Duration.ofSeconds(1));
        agent.runOnce();
        assertThat(relay.sessions).hasSize(2);
        assertThat(forwardReport("a").reason()).isEqualTo(Reasons.FORWARD_REFUSED);
        assertThat(forwardReport("a").message()).contains("an older session of this key (this agent's, before it "
                + "reconnected)", "ClientAliveInterval x ClientAliveCountMax", "every 500 ms");

        for (int i = 0; i < 20; i++) { // 15 s, well into what the backoff would have waited
            clock.advance(Duration.ofMillis(750));
            agent.runOnce();
        }
        assertThat(relay.sessions).as("asked on the session it has: a new login would be refused the same").hasSize(2);
        relay.holdElsewhere(); // the relay lets go
        clock.advance(Duration.ofMillis(750));
        agent.runOnce();

        assertThat(forwardReport("a").state()).isEqualTo(ForwardState.Bound);
        assertThat(relay.session(1).bound).containsExactly("a");
    }

    @Test
    void aListenStillHeldAfterTwoMinutesIsAskedForWithTheBackoff() {
        agent.apply(config(spec(5, 30, forward("a", 4001))));
        agent.runOnce();
        relay.holdElsewhere(4001);
        relay.session(0).die();
        agent.runOnce();
        clock.advance(Duration.ofSeconds(5));
        agent.runOnce();
        assertThat(forwardReport("a").state()).isEqualTo(ForwardState.Failed);
        Instant firstRefusal = clock.instant();
        while (Duration.between(firstRefusal, clock.instant()).compareTo(TunnelAgent.HELD_LISTEN_PATIENCE) <= 0) {
            clock.advance(Duration.ofMillis(750));
            agent.runOnce();
        }
        relay.holdElsewhere();
        clock.advance(Duration.ofMillis(750));
        agent.runOnce();

        assertThat(forwardReport("a").state()).as("the backoff's first wait, 2.5-5 s").isEqualTo(ForwardState.Failed);
        clock.advance(Duration.ofSeconds(5));
        agent.runOnce();
        assertThat(forwardReport("a").state()).isEqualTo(ForwardState.Bound);
    }

    @Test
    void aPodThatTookTheTunnelOverAsksForItsListensAgainEveryHalfSecondAndSaysWhoHoldsThem() {
        TunnelAgent successor = new TunnelAgent(reports::add, relay, clock, new Random(42), () -> true);
        relay.holdElsewhere(4001); // by the session of the pod that served the tunnel and vanished
        successor.apply(config(spec(1, 30, forward("a", 4001))));
        successor.runOnce();
        ForwardReport refused = successor.report().forwards().get(0);
        assertThat(refused.reason()).isEqualTo(Reasons.FORWARD_REFUSED);
        assertThat(refused.message()).contains("the agent pod that served the tunnel before");

        clock.advance(Duration.ofMillis(750));
        successor.runOnce();
        relay.holdElsewhere();
        clock.advance(Duration.ofMillis(750));
        successor.runOnce();

        assertThat(successor.report().forwards().get(0).state()).isEqualTo(ForwardState.Bound);
        assertThat(relay.sessions).as("no login beside its session").hasSize(1);
        successor.close();
    }

    @Test
    void anUnexpectedFailureIsReportedAsTheAgentsOwnAndTheAgentStartsOverWithAFreshSession() {
        relay.nextBindBug = new IllegalStateException("a bug in the agent");
        agent.apply(config(spec(1, 10, forward("ssh", 4022))));
        agent.runOnce();

        assertThat(agent.report().reason()).isEqualTo(Reasons.AGENT_FAILED);
        assertThat(agent.report().message()).contains("IllegalStateException", "a bug in the agent");
        assertThat(agent.report().connected()).isFalse();
        assertThat(agent.report().forwards()).extracting(ForwardReport::state).containsExactly(ForwardState.Pending);
        assertThat(relay.session(0).closedByAgent()).isTrue();

        clock.advance(Duration.ofSeconds(10).plusMillis(1));
        agent.runOnce();
        assertThat(relay.session(1).bound).containsExactly("ssh");
        assertThat(agent.report().reason()).isEqualTo(Reasons.CONNECTED);
    }

    @Test
    void aRelayThatRunsCommandsForTheKeyIsReported() {
        relay.runsCommands = true;
        agent.apply(config(spec(1, 30, forward("ssh", 4022))));
        await().atMost(Duration.ofSeconds(5)).pollInSameThread().untilAsserted(() -> {
            agent.runOnce(); // the check runs beside the loop; its answer shows in the next report
            assertThat(agent.report().relayRunsCommands()).isTrue();
        });
    }

    @Test
    void eachFailureInARowWaitsTwiceAsLongAndASessionThatHeldStartsAgainFromTheMinimum() {
        agent.apply(config(spec(1, 60, forward("ssh", 4022))));
        relay.failNextLogins(unreachable(), unreachable(), unreachable());
        List<Duration> waits = new ArrayList<>();
        Instant failedAt = clock.instant();
        while (relay.logins < 4) {
            agent.runOnce();
            if (relay.logins > waits.size() + 1) {
                waits.add(Duration.between(failedAt, clock.instant()));
                failedAt = clock.instant();
            }
            clock.advance(Duration.ofMillis(100));
        }
        // 0.5-1 s, 1-2 s, 2-4 s (equal jitter), to the 100 ms this loop steps by
        assertThat(waits).hasSize(3);
        assertThat(waits.get(0)).isBetween(Duration.ofMillis(500), Duration.ofMillis(1100));
        assertThat(waits.get(1)).isBetween(Duration.ofMillis(1000), Duration.ofMillis(2100));
        assertThat(waits.get(2)).isBetween(Duration.ofMillis(2000), Duration.ofMillis(4100));
        assertThat(relay.tcpProbes).as("no TCP probes: the relay's host did not refuse, it was unreachable").isZero();

        clock.advance(Duration.ofSeconds(10)); // the session holds: the relay is healthy again
        agent.runOnce();
        relay.session(0).die();
        agent.runOnce();
        clock.advance(Duration.ofMillis(1001));
        agent.runOnce();
        assertThat(relay.logins).as("back to the minimum backoff after a session that held").isEqualTo(5);
    }

    @Test
    void aConfigFixedDuringALongBackoffIsTriedAtOnce() {
        ReverseTunnelSpec wrongUser = spec(30, 300, forward("ssh", 4022));
        relay.failNextLogins(new RelayFailure(Reasons.AUTHENTICATION_FAILED, "the relay refused the key", false, null));
        agent.apply(config(wrongUser));
        agent.runOnce();
        assertThat(relay.logins).isEqualTo(1);

        ReverseTunnelSpec fixed = spec(30, 300, forward("ssh", 4022));
        fixed.getRelay().setUser("tunnel-fixed");
        agent.apply(config(fixed));
        agent.runOnce();

        assertThat(relay.logins).as("no wait of minutes for a config that changed").isEqualTo(2);
        assertThat(agent.report().reason()).isEqualTo(Reasons.CONNECTED);
    }

    @Test
    void aHostKeyTrustedOnFirstUseIsRequiredAtEveryLaterLogin() {
        ReverseTunnelSpec spec = spec(1, 30, forward("ssh", 4022));
        spec.getRelay().setHostKeys(new ArrayList<>());
        spec.getRelay().setHostKeyPolicy(HostKeyPolicy.AcceptNew);
        agent.apply(config(spec));
        agent.runOnce();
        relay.session(0).die();
        agent.runOnce();
        clock.advance(Duration.ofSeconds(1).plusMillis(1));
        agent.runOnce();

        assertThat(relay.pinsAtLogin).containsExactly(List.of(), List.of(ScriptedRelay.HOST_KEY.toKeyString()));
    }

    @Test
    void aSideSessionThatCannotBeOpenedLeavesTheForwardRefusedAndTheOthersBound() {
        relay.refuseListensOn(4002);
        agent.apply(config(spec(1, 30, forward("a", 4001), forward("b", 4002))));
        agent.runOnce();
        relay.failNextLogins(unreachable());
        clock.advance(Duration.ofSeconds(2));
        agent.runOnce();

        assertThat(relay.logins).as("the side session was tried").isEqualTo(2);
        assertThat(forwardReport("b").state()).isEqualTo(ForwardState.Failed);
        assertThat(forwardReport("a").state()).isEqualTo(ForwardState.Bound);
        assertThat(agent.report().connected()).isTrue();
    }

    @Test
    void eachBoundForwardIsCheckedAtOnceThenEveryIntervalAndItsVerdictIsItsReason() {
        relay.targets.put("127.0.0.1:22", ScriptedRelay.Target.REFUSES);
        ReverseTunnelSpec spec = spec(1, 30, forward("ssh", 4022));
        spec.getCheck().setIntervalSeconds(20);
        agent.apply(config(spec));
        agent.runOnce();

        awaitCheckConnections(1);
        agent.runOnce();
        assertThat(forwardReport("ssh").reason()).isEqualTo(Reasons.TARGET_REFUSED);
        assertThat(forwardReport("ssh").state()).isEqualTo(ForwardState.Bound);
        assertThat(forwardReport("ssh").check().reachable()).isFalse();
        assertThat(agent.traffic().get("ssh").checksFailed()).isEqualTo(1);

        relay.targets.remove("127.0.0.1:22"); // the target's sshd is back
        clock.advance(Duration.ofSeconds(19));
        agent.runOnce();
        assertThat(relay.checkConnections).as("not before the interval").containsOnly("127.0.0.1:4022", "localhost:1")
                .filteredOn(c -> c.endsWith(":4022")).hasSize(1);
        clock.advance(Duration.ofSeconds(1));
        agent.runOnce();
        awaitCheckConnections(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            agent.runOnce();
            return forwardReport("ssh").check() != null && forwardReport("ssh").check().reachable();
        });
        assertThat(forwardReport("ssh").reason()).isEqualTo(Reasons.REACHABLE);
        assertThat(forwardReport("ssh").check().listeningOn()).isEqualTo("127.0.0.1:4022");
        assertThat(agent.traffic().get("ssh").checksPassed()).isEqualTo(1);
    }

    @Test
    void aForwardWithItsCheckOffOrOnAnAllocatedPortIsNeverCheckedAndTheRelayKeyCheckFindsNoOpenDoor() {
        relay.checkConnections.clear();
        ForwardSpec off = forward("off", 4022);
        off.setCheck(dev.jumpgate.api.v1alpha1.ForwardCheck.None);
        agent.apply(config(spec(1, 30, off, forward("any", 0))));
        agent.runOnce();

        await().atMost(Duration.ofSeconds(5)).until(() -> {
            agent.runOnce();
            return agent.report().relayOpensAnywhere() != null;
        });
        assertThat(agent.report().relayOpensAnywhere()).isFalse();
        assertThat(relay.checkConnections).as("only the key check's nowhere").containsExactly("localhost:1");
        assertThat(forwardReport("off").reason()).isEqualTo(Reasons.BOUND);
        assertThat(forwardReport("off").check()).isNull();
    }

    @Test
    void aRelayThatConnectsAnywhereForTheKeyIsFoundAtLogin() {
        relay.permitsAnywhere = true; // the key's line was pasted without its options
        agent.apply(config(spec(1, 30, forward("ssh", 4022))));

        await().atMost(Duration.ofSeconds(5)).until(() -> {
            agent.runOnce();
            return agent.report().relayOpensAnywhere() != null;
        });
        assertThat(agent.report().relayOpensAnywhere()).isTrue();
    }

    private void awaitCheckConnections(int count) {
        // The check runs beside the loop; the key check asks for localhost:1, which is not one.
        await().atMost(Duration.ofSeconds(5)).until(() -> relay.checkConnections.stream()
                .filter(c -> !c.equals("localhost:1")).count() >= count);
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            agent.runOnce();
            return agent.traffic().get("ssh").checksPassed() + agent.traffic().get("ssh").checksFailed() >= count;
        });
    }

    @Test
    void theLoopCannotBeDrivenFromOutsideOnceTheAgentRunsIt() {
        agent.apply(config(spec(1, 30, forward("ssh", 4022))));
        agent.start();
        try {
            assertThatThrownBy(agent::runOnce).isInstanceOf(IllegalStateException.class);
        } finally {
            agent.close();
        }
    }

    @Test
    void stoppingTheAgentCancelsItsForwardsAndClosesTheSession() {
        agent.apply(config(spec(1, 30, forward("a", 4001), forward("b", 4002))));
        agent.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> agent.report() != null && agent.report().allForwardsBound());

        agent.close();

        assertThat(relay.session(0).cancelled).containsExactlyInAnyOrder("a", "b");
        assertThat(relay.session(0).closedByAgent()).isTrue();
        assertThat(agent.isRunning()).isFalse();
        assertThat(agent.report().message()).isEqualTo("the agent stopped");
    }

    private ForwardReport forwardReport(String name) {
        return agent.report().forwards().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }

    private static RelayFailure unreachable() {
        return new RelayFailure(Reasons.RELAY_UNREACHABLE, "connection timed out", true, null, false);
    }

    private static RelayFailure refused() {
        return new RelayFailure(Reasons.RELAY_UNREACHABLE, "connection refused", true, null, true);
    }

    private TunnelConfig config(ReverseTunnelSpec spec) {
        return new TunnelConfig(++generation, spec,
                Identity.of("test", "not read by a scripted relay".getBytes(StandardCharsets.US_ASCII)), null);
    }

    private static ForwardSpec forward(String name, int remotePort) {
        return new ForwardSpec(name, new RemoteEndpoint(RemoteEndpoint.LOOPBACK, remotePort),
                new TargetEndpoint("127.0.0.1", 22));
    }

    private static ReverseTunnelSpec spec(int minBackoffSeconds, int maxBackoffSeconds, ForwardSpec... forwards) {
        ReverseTunnelSpec spec = new ReverseTunnelSpec();
        spec.getRelay().setHost("relay.example");
        spec.getRelay().setUser("tunnel");
        spec.getReconnect().setMinBackoffSeconds(minBackoffSeconds);
        spec.getReconnect().setMaxBackoffSeconds(maxBackoffSeconds);
        spec.setForwards(new ArrayList<>(List.of(forwards)));
        return spec;
    }
}
