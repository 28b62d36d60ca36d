package dev.jumpgate.operator.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.jumpgate.api.v1alpha1.AuthSpec;
import dev.jumpgate.api.v1alpha1.FallbackRelay;
import dev.jumpgate.api.v1alpha1.ForwardCheck;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.ForwardStatus;
import dev.jumpgate.api.v1alpha1.HopState;
import dev.jumpgate.api.v1alpha1.HopStatus;
import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.JumpHost;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelStatus;
import dev.jumpgate.api.v1alpha1.SecretKeyRef;
import dev.jumpgate.api.v1alpha1.SocksSpec;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import dev.jumpgate.api.v1alpha1.TunnelCondition;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.CheckReport;
import dev.jumpgate.report.ForwardReport;
import dev.jumpgate.report.HopReport;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusAggregatorTest {

    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN";
    private static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

    private final ReverseTunnel tunnel = tunnel();

    private static ReverseTunnel tunnel() {
        ReverseTunnel t = new ReverseTunnel();
        t.setMetadata(new ObjectMetaBuilder().withName("lab").withNamespace("ns").withGeneration(3L).build());
        t.setSpec(new dev.jumpgate.api.v1alpha1.ReverseTunnelSpec());
        t.getSpec().getRelay().setHost("relay.example.com");
        t.getSpec().getRelay().setUser("tunnel");
        t.getSpec().getRelay().setHostKeys(new ArrayList<>(List.of(KEY)));
        t.getSpec().setForwards(new ArrayList<>(List.of(
                new ForwardSpec("ssh", new RemoteEndpoint("127.0.0.1", 3838), new TargetEndpoint("10.8.92.10", 22)),
                new ForwardSpec("any", new RemoteEndpoint("0.0.0.0", 0), new TargetEndpoint("10.8.92.10", 80)))));
        return t;
    }

    /** A bound forward whose last end-to-end check passed (a forward on port 0 is never checked: no check). */
    private static ForwardReport bound(String name, String bind, int requested, int port, String target) {
        return new ForwardReport(name, bind, requested, port, target, ForwardState.Bound, Reasons.REACHABLE,
                "reached the target", 0, requested == 0 ? null : new CheckReport(true, NOW.toString(), 4, bind + ":" + port));
    }

    private static ForwardReport boundUnchecked(String name, String bind, int requested, int port, String target) {
        return new ForwardReport(name, bind, requested, port, target, ForwardState.Bound, Reasons.BOUND, "listening");
    }

    private static ForwardReport boundButUnreachable(String name, String bind, int port, String target, String reason) {
        return new ForwardReport(name, bind, port, port, target, ForwardState.Bound, reason, "the path broke there", 0,
                new CheckReport(false, NOW.toString(), 0, null));
    }

    private static AgentReport report(long generation, Instant heartbeat, ForwardReport... forwards) {
        return new AgentReport(generation, true, Reasons.CONNECTED, "connected", "2026-11-23T11:00:00Z", 0, null, null, KEY,
                "SHA256:x", false, "SSH-2.0-OpenSSH_9.2p1", false, List.of(forwards), heartbeat.toString());
    }

    private ReverseTunnelStatus aggregate(AgentReport report, Instant now) {
        return StatusAggregator.aggregate(tunnel, new TunnelObservation(List.of(), null, KEY, NOW.minusSeconds(60), report, now));
    }

    private static TunnelCondition ready(ReverseTunnelStatus status) {
        return StatusAggregator.readyCondition(status);
    }

    @Test
    void connectedWithEveryForwardBoundIsReadyWithTheAllocatedPortsAndHints() {
        ReverseTunnelStatus status = aggregate(report(3, NOW, bound("ssh", "127.0.0.1", 3838, 3838, "10.8.92.10:22"),
                bound("any", "0.0.0.0", 0, 41234, "10.8.92.10:80")), NOW);

        assertThat(ready(status).getStatus()).isEqualTo("True");
        assertThat(ready(status).getReason()).isEqualTo(Reasons.TUNNEL_READY);
        assertThat(status.getBoundForwards()).isEqualTo("2/2");
        assertThat(status.getForwards()).extracting(f -> f.getRemotePort()).containsExactly(3838, 41234);
        assertThat(status.getForwards()).extracting(f -> f.getEndpoint()).containsExactly(
                "ssh -J <relay-user>@relay.example.com -p 3838 <user>@localhost",
                "ssh -p 41234 <user>@relay.example.com");
        assertThat(status.getAuthorizedKey()).startsWith(
                "restrict,port-forwarding,command=\"echo 'this key only holds a Jumpgate tunnel' >&2; exit 1\",permitopen=\"127.0.0.1:3838\",permitlisten=\"127.0.0.1:3838\",permitlisten=\"0.0.0.0:*\" " + KEY);
        assertThat(status.getObservedGeneration()).isEqualTo(3L);
        assertThat(status.getReachableForwards()).isEqualTo("1/1");
        assertThat(status.getForwards().get(0)).extracting(ForwardStatus::getReachable, ForwardStatus::getLatencyMillis,
                ForwardStatus::getLastCheckTime).containsExactly(true, 4L, NOW.toString());
        assertThat(status.getForwards().get(1).getReachable()).as("port 0: not checked").isNull();
        assertThat(StatusAggregator.condition(status, StatusAggregator.REACHABLE))
                .extracting(TunnelCondition::getStatus, TunnelCondition::getReason).containsExactly("True", Reasons.REACHABLE);
        assertThat(status.getRelay().getSshVersion()).isEqualTo("SSH-2.0-OpenSSH_9.2p1");
    }

    @Test
    void aBoundForwardWhoseCheckFailedKeepsTheTunnelFromReadyWithTheReasonWhereThePathBroke() {
        ReverseTunnelStatus status = aggregate(report(3, NOW,
                boundButUnreachable("ssh", "127.0.0.1", 3838, "10.8.92.10:22", Reasons.TARGET_REFUSED),
                bound("any", "0.0.0.0", 0, 41234, "10.8.92.10:80")), NOW);

        assertThat(ready(status)).extracting(TunnelCondition::getStatus, TunnelCondition::getReason)
                .containsExactly("False", Reasons.TARGET_REFUSED);
        assertThat(ready(status).getMessage()).isEqualTo("forward ssh: the path broke there");
        assertThat(StatusAggregator.condition(status, StatusAggregator.REACHABLE))
                .extracting(TunnelCondition::getStatus, TunnelCondition::getReason)
                .containsExactly("False", Reasons.TARGET_REFUSED);
        assertThat(status.getBoundForwards()).isEqualTo("2/2");
        assertThat(status.getReachableForwards()).isEqualTo("0/1");
        assertThat(status.getForwards().get(0)).extracting(ForwardStatus::getState, ForwardStatus::getReachable,
                ForwardStatus::getReason, ForwardStatus::getLatencyMillis)
                .containsExactly(ForwardState.Bound, false, Reasons.TARGET_REFUSED, null);
    }

    @Test
    void aBoundForwardNotCheckedYetIsNotReadyYet() {
        ReverseTunnelStatus status = aggregate(report(3, NOW, boundUnchecked("ssh", "127.0.0.1", 3838, 3838, "10.8.92.10:22"),
                bound("any", "0.0.0.0", 0, 41234, "10.8.92.10:80")), NOW);

        assertThat(ready(status)).extracting(TunnelCondition::getStatus, TunnelCondition::getReason)
                .containsExactly("False", Reasons.CHECK_PENDING);
        assertThat(StatusAggregator.condition(status, StatusAggregator.REACHABLE))
                .extracting(TunnelCondition::getStatus, TunnelCondition::getReason)
                .containsExactly("Unknown", Reasons.CHECK_PENDING);
        assertThat(status.getReachableForwards()).isEqualTo("0/1");
    }

    @Test
    void aForwardWithItsCheckOffIsReadyOnceBoundAndTheTunnelSaysNothingIsChecked() {
        ReverseTunnel tunnel = tunnel();
        tunnel.getSpec().getForwards().get(0).setCheck(ForwardCheck.None);
        ReverseTunnelStatus status = StatusAggregator.aggregate(tunnel, new TunnelObservation(List.of(), null, KEY,
                NOW.minusSeconds(60), report(3, NOW, boundUnchecked("ssh", "127.0.0.1", 3838, 3838, "10.8.92.10:22"),
                        bound("any", "0.0.0.0", 0, 41234, "10.8.92.10:80")), NOW));

        assertThat(ready(status)).extracting(TunnelCondition::getStatus, TunnelCondition::getReason)
                .containsExactly("True", Reasons.TUNNEL_READY);
        assertThat(StatusAggregator.condition(status, StatusAggregator.REACHABLE))
                .extracting(TunnelCondition::getStatus, TunnelCondition::getReason)
                .containsExactly("Unknown", Reasons.CHECKS_OFF);
        assertThat(status.getAuthorizedKey()).contains("permitopen=\"127.0.0.1:1\"").doesNotContain("permitopen=\"127.0.0.1:3838\"");
    }

    @Test
    void theKeyIsRestrictedOnlyOnceTheAgentHasCheckedAndAStaleReportKeepsWhatItSaid() {
        AgentReport unchecked = report(3, NOW);
        AgentReport unrestricted = new AgentReport(3, true, Reasons.CONNECTED, "connected", null, 0, null, null, KEY,
                "SHA256:x", true, null, null, List.of(), NOW.toString());

        assertThat(StatusAggregator.condition(aggregate(new AgentReport(3, true, Reasons.CONNECTED, "connected", null, 0,
                null, null, KEY, "SHA256:x", null, null, null, List.of(), NOW.toString()), NOW), StatusAggregator.KEY_RESTRICTED))
                .extracting(TunnelCondition::getStatus, TunnelCondition::getReason)
                .containsExactly("Unknown", Reasons.RELAY_KEY_UNCHECKED);
        assertThat(StatusAggregator.condition(aggregate(unchecked, NOW), StatusAggregator.KEY_RESTRICTED).getStatus())
                .isEqualTo("True");
        ReverseTunnelStatus shell = aggregate(unrestricted, NOW);
        assertThat(StatusAggregator.condition(shell, StatusAggregator.KEY_RESTRICTED))
                .extracting(TunnelCondition::getStatus, TunnelCondition::getReason)
                .containsExactly("False", Reasons.RELAY_KEY_UNRESTRICTED);

        tunnel.setStatus(shell);
        ReverseTunnelStatus later = aggregate(unrestricted, NOW.plus(Duration.ofMinutes(10)));
        assertThat(StatusAggregator.condition(later, StatusAggregator.KEY_RESTRICTED).getStatus()).isEqualTo("False");
    }

    @Test
    void eachJumpHostShowsItsStateItsLineAndWhetherItHoldsTheKeyToIt() {
        tunnel.getSpec().getRelay().setVia(List.of(new JumpHost("bastion.corp", 22, "jump", List.of(KEY)),
                new JumpHost("inner.corp", 2222, "jump", List.of(KEY))));
        HopReport first = new HopReport("bastion.corp", 22, HopState.Connected, "SHA256:b", null, false);
        HopReport second = new HopReport("inner.corp", 2222, HopState.Connected, "SHA256:i", null, true);
        AgentReport through = new AgentReport(3, true, Reasons.CONNECTED, "connected", null, 0, null, null, KEY,
                "SHA256:x", false, null, false, List.of(), NOW.toString(), List.of(first, second));

        ReverseTunnelStatus status = aggregate(through, NOW);

        assertThat(status.getRelay().getHops()).extracting(HopStatus::getHost, HopStatus::getState, HopStatus::getKeyRestricted)
                .containsExactly(tuple("jump@bastion.corp:22", HopState.Connected, false),
                        tuple("jump@inner.corp:2222", HopState.Connected, true));
        assertThat(status.getRelay().getHops().get(0).getAuthorizedKey()).contains("permitopen=\"inner.corp:2222\"");
        assertThat(status.getRelay().getHops().get(1).getAuthorizedKey()).contains("permitopen=\"relay.example.com:22\"");
        assertThat(StatusAggregator.condition(status, StatusAggregator.KEY_RESTRICTED))
                .extracting(TunnelCondition::getStatus, TunnelCondition::getReason)
                .containsExactly("False", Reasons.JUMP_HOST_KEY_UNRESTRICTED);
        assertThat(StatusAggregator.condition(status, StatusAggregator.KEY_RESTRICTED).getMessage())
                .contains("jump@bastion.corp:22").contains("status.relay.hops[0].authorizedKey");

        // A report of other hops (the spec changed since) tells nothing of these.
        tunnel.getSpec().getRelay().setVia(List.of(new JumpHost("elsewhere", 22, "jump", List.of(KEY))));
        assertThat(aggregate(through, NOW).getRelay().getHops()).singleElement()
                .extracting(HopStatus::getState).isEqualTo(HopState.NotReached);
    }

    @Test
    void anAgentBehindTheSpecIsNotReadyYet() {
        ReverseTunnelStatus status = aggregate(report(2, NOW, bound("ssh", "127.0.0.1", 3838, 3838, "10.8.92.10:22")), NOW);

        assertThat(ready(status).getStatus()).isEqualTo("False");
        assertThat(ready(status).getMessage()).contains("generation 3");
        assertThat(status.getForwards().get(1).getState()).isEqualTo(ForwardState.Pending);
    }

    @Test
    void aForwardWhoseSpecChangedIsPendingUntilTheAgentReportsTheNewOne() {
        ReverseTunnelStatus status = aggregate(report(3, NOW, bound("ssh", "127.0.0.1", 3939, 3939, "10.8.92.10:22"),
                bound("any", "0.0.0.0", 0, 41234, "10.8.92.10:80")), NOW);

        assertThat(status.getForwards().get(0).getState()).isEqualTo(ForwardState.Pending);
        assertThat(ready(status).getReason()).isEqualTo(Reasons.FORWARD_PENDING);
    }

    @Test
    void aStaleReportMakesTheAgentUnavailable() {
        Instant later = NOW.plus(AgentContract.STALE_AFTER).plus(Duration.ofSeconds(1));
        ReverseTunnelStatus status = aggregate(report(3, NOW, bound("ssh", "127.0.0.1", 3838, 3838, "10.8.92.10:22"),
                bound("any", "0.0.0.0", 0, 41234, "10.8.92.10:80")), later);

        assertThat(StatusAggregator.condition(status, StatusAggregator.CONNECTED).getStatus()).isEqualTo("Unknown");
        assertThat(ready(status).getReason()).isEqualTo(Reasons.AGENT_UNAVAILABLE);
        assertThat(status.getBoundForwards()).isEqualTo("0/2");
    }

    @Test
    void anUnchangedConditionKeepsItsTransitionTimeSoTheStatusIsNotRewritten() {
        AgentReport report = report(3, NOW, bound("ssh", "127.0.0.1", 3838, 3838, "10.8.92.10:22"),
                bound("any", "0.0.0.0", 0, 41234, "10.8.92.10:80"));
        tunnel.setStatus(aggregate(report, NOW));

        ReverseTunnelStatus again = aggregate(report, NOW.plusSeconds(20));

        assertThat(again).isEqualTo(tunnel.getStatus());
    }

    @Test
    void trustOnFirstUsePinsTheFirstKeySeenAndKeepsIt() {
        tunnel.getSpec().getRelay().getHostKeys().clear();
        tunnel.getSpec().getRelay().setHostKeyPolicy(HostKeyPolicy.AcceptNew);
        tunnel.setStatus(aggregate(report(3, NOW), NOW));
        assertThat(tunnel.getStatus().getRelay().getAcceptedHostKey()).isEqualTo(KEY);

        String otherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOs9a/5C7kVhZ+X5+8/WIZ8wzXWYmVXPG6Qu3JzNoUhU";
        AgentReport impostor = new AgentReport(3, true, Reasons.CONNECTED, "connected", null, 0, null, null, otherKey,
                "SHA256:y", false, null, false, List.of(), NOW.toString());
        assertThat(aggregate(impostor, NOW).getRelay().getAcceptedHostKey()).isEqualTo(KEY);
    }

    /** The report of an agent on relay {@code relay} of spec.relays(), with its forwards bound there. */
    private static AgentReport onRelay(Integer relay, String failover, String hostKey, ForwardReport... forwards) {
        return new AgentReport(3, true, Reasons.CONNECTED, "connected", "2026-11-23T11:00:00Z", 0, null, null, hostKey,
                "SHA256:x", false, "SSH-2.0-OpenSSH_9.2p1", false, List.of(forwards), NOW.toString(), null, relay,
                failover);
    }

    @Test
    void onAFallbackRelayTheStatusNamesItSaysWhyAndPointsTheLaptopThere() {
        tunnel.getSpec().setFallbackRelays(new ArrayList<>(List.of(new FallbackRelay("relay-b.example.net", 2222,
                "tunnel", List.of(KEY)))));

        ReverseTunnelStatus status = aggregate(onRelay(1, "tunnel@relay.example.com:22: connection refused", KEY,
                bound("ssh", "127.0.0.1", 3838, 3838, "10.8.92.10:22"), bound("any", "0.0.0.0", 0, 40001, "10.8.92.10:80")),
                NOW);

        assertThat(status.getRelay().getActive()).isEqualTo("tunnel@relay-b.example.net:2222");

        assertThat(status.getRelay().getFailover()).isEqualTo("tunnel@relay.example.com:22: connection refused");
        assertThat(status.getForwards()).extracting(ForwardStatus::getEndpoint).containsExactly(
                "ssh -J <relay-user>@relay-b.example.net:2222 -p 3838 <user>@localhost",
                "ssh -p 40001 <user>@relay-b.example.net");
        assertThat(status.getSshConfig()).isEqualTo("""
                # ReverseTunnel ns/lab, through relay-b.example.net
                Host lab-ssh
                  HostName localhost
                  Port 3838
                  ProxyJump relay-b.example.net:2222
                  HostKeyAlias lab-ssh
                Host lab-any
                  HostName relay-b.example.net
                  Port 40001
                  HostKeyAlias lab-any
                """);

        ReverseTunnelStatus back = aggregate(onRelay(0, null, KEY, bound("ssh", "127.0.0.1", 3838, 3838, "10.8.92.10:22"),
                bound("any", "0.0.0.0", 0, 41234, "10.8.92.10:80")), NOW);
        assertThat(back.getRelay().getActive()).isEqualTo("tunnel@relay.example.com:22");
        assertThat(back.getRelay().getFailover()).isNull();
        assertThat(back.getSshConfig()).contains("ProxyJump relay.example.com\n", "HostName relay.example.com\n",
                "Port 41234\n");
    }

    @Test
    void eachFallbackRelayGetsALineThatLetsTheChecksConnectToItsOwnNameOnly() {
        tunnel.getSpec().getForwards().add(new ForwardSpec("web", new RemoteEndpoint("0.0.0.0", 8080),
                new TargetEndpoint("10.8.92.10", 80)));
        tunnel.getSpec().setFallbackRelays(new ArrayList<>(List.of(new FallbackRelay("relay-b.example.net", 2222,
                "tunnel", List.of(KEY)))));

        ReverseTunnelStatus status = aggregate(onRelay(0, null, KEY), NOW);

        assertThat(status.getRelay().getFallbacks()).singleElement().satisfies(fallback -> {
            assertThat(fallback.getRelay()).isEqualTo("tunnel@relay-b.example.net:2222");
            assertThat(fallback.getAuthorizedKey()).contains("permitopen=\"relay-b.example.net:8080\"",
                    "permitlisten=\"0.0.0.0:8080\"").doesNotContain("relay.example.com");
        });
        assertThat(status.getAuthorizedKey()).contains("permitopen=\"relay.example.com:8080\"")
                .doesNotContain("relay-b");
    }

    @Test
    void aSocksForwardIsShownAsTheProxyItIsWithNoSshConfigEntry() {
        ForwardSpec socks = new ForwardSpec("lan", new RemoteEndpoint("127.0.0.1", 1080), null);
        socks.setSocks(new SocksSpec(List.of("10.8.92.0/24"), List.of(22)));
        tunnel.getSpec().setForwards(new ArrayList<>(List.of(socks)));

        ReverseTunnelStatus status = aggregate(report(3, NOW, bound("lan", "127.0.0.1", 1080, 1080,
                "SOCKS to 10.8.92.0/24 ports [22]")), NOW);

        assertThat(status.getForwards()).singleElement().satisfies(f -> {
            assertThat(f.getState()).isEqualTo(ForwardState.Bound);
            assertThat(f.getTarget()).isEqualTo("SOCKS to 10.8.92.0/24 ports [22]");
            assertThat(f.getEndpoint()).isEqualTo("SOCKS5 on the relay's localhost:1080: ssh -N -L 1080:localhost:1080 "
                    + "<relay-user>@relay.example.com, then ssh -o ProxyCommand='nc -X 5 -x localhost:1080 %h %p' "
                    + "<user>@<lab host>");
        });
        assertThat(status.getSshConfig()).isNull();
        assertThat(status.getAuthorizedKey()).contains("permitlisten=\"127.0.0.1:1080\"");
    }

    @Test
    void aKeyWithACertificateGetsTheLineForTheRelaysAuthorizedPrincipalsFileWithTheSameRestrictions() {
        assertThat(aggregate(report(3, NOW), NOW).getAuthorizedPrincipal()).as("no certificate: no line").isNull();
        tunnel.getSpec().setAuth(new AuthSpec());
        tunnel.getSpec().getAuth().setSecretRef(new SecretKeyRef());
        tunnel.getSpec().getAuth().getSecretRef().setName("lab-key");
        tunnel.getSpec().getAuth().getSecretRef().setCertificateKey("ssh-certificate");

        ReverseTunnelStatus status = aggregate(report(3, NOW), NOW);

        String options = status.getAuthorizedKey().substring(0, status.getAuthorizedKey().indexOf(" ssh-ed25519 "));
        assertThat(status.getAuthorizedPrincipal()).isEqualTo(options + " jumpgate:ns/lab");
    }

    @Test
    void aTunnelWithOneRelayShowsNoActiveRelayAndAnIndexItDoesNotHaveIsThePreferredRelay() {
        ReverseTunnelStatus status = aggregate(report(3, NOW, bound("ssh", "127.0.0.1", 3838, 3838, "10.8.92.10:22")), NOW);
        assertThat(status.getRelay().getActive()).isNull();
        assertThat(status.getSshConfig()).startsWith("# ReverseTunnel ns/lab, through relay.example.com\nHost lab-ssh\n")
                .as("a port the relay allocates, not bound: no entry").doesNotContain("lab-any");

        ReverseTunnelStatus stale = aggregate(onRelay(2, "gone", KEY), NOW);
        assertThat(stale.getSshConfig()).contains("ProxyJump relay.example.com\n");
    }

    @Test
    void aKeySeenOnAFallbackRelayIsNeverTheKeyTrustedOnFirstUseForThePreferredOne() {
        tunnel.getSpec().getRelay().getHostKeys().clear();
        tunnel.getSpec().getRelay().setHostKeyPolicy(HostKeyPolicy.AcceptNew);
        String fallbackKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOs9a/5C7kVhZ+X5+8/WIZ8wzXWYmVXPG6Qu3JzNoUhU";
        tunnel.getSpec().setFallbackRelays(new ArrayList<>(List.of(new FallbackRelay("relay-b.example.net", 22,
                "tunnel", List.of(fallbackKey)))));

        tunnel.setStatus(aggregate(onRelay(1, "refused", fallbackKey), NOW));
        assertThat(tunnel.getStatus().getRelay().getAcceptedHostKey()).isNull();
        // A spec with one relay again, this one trusted on first use; the agent's last report, still fresh, is of
        // the spec before, when it was connected elsewhere: one relay then too, so no index tells them apart.
        tunnel.getSpec().setFallbackRelays(null);
        AgentReport before = new AgentReport(2, true, Reasons.CONNECTED, "connected", null, 0, null, null, fallbackKey,
                "SHA256:y", false, null, false, List.of(), NOW.toString());
        tunnel.setStatus(aggregate(before, NOW));
        assertThat(tunnel.getStatus().getRelay().getAcceptedHostKey()).as("a report on an older spec").isNull();
        tunnel.getSpec().setFallbackRelays(new ArrayList<>(List.of(new FallbackRelay("relay-b.example.net", 22,
                "tunnel", List.of(fallbackKey)))));

        tunnel.setStatus(aggregate(onRelay(0, null, KEY), NOW));
        assertThat(tunnel.getStatus().getRelay().getAcceptedHostKey()).isEqualTo(KEY);
    }

    @Test
    void anAgentThatNeverReportsIsStartingThenUnavailable() {
        TunnelObservation justDeployed = new TunnelObservation(List.of(), null, KEY, NOW.minusSeconds(10), null, NOW);
        TunnelObservation longAgo = new TunnelObservation(List.of(), null, KEY,
                NOW.minus(StatusAggregator.FIRST_REPORT_DEADLINE).minusSeconds(1), null, NOW);

        assertThat(ready(StatusAggregator.aggregate(tunnel, justDeployed)).getReason()).isEqualTo(Reasons.AGENT_STARTING);
        TunnelCondition stuck = ready(StatusAggregator.aggregate(tunnel, longAgo));
        assertThat(stuck.getReason()).isEqualTo(Reasons.AGENT_UNAVAILABLE);
        assertThat(stuck.getMessage()).contains("kubectl describe pod -l jumpgate.dev/agent=default-pool");
    }

    @Test
    void aTunnelWithoutSpecIsInvalidNotACrash() {
        tunnel.setSpec(null);
        ReverseTunnelStatus status = StatusAggregator.aggregate(tunnel, new TunnelObservation(
                List.of("spec: required"), null, null, null, null, NOW));
        assertThat(ready(status).getReason()).isEqualTo(Reasons.SPEC_INVALID);
        assertThat(status.getBoundForwards()).isEqualTo("0/0");
    }

    @Test
    void anInvalidSpecSaysWhatIsWrongAndListsNoForwards() {
        ReverseTunnelStatus status = StatusAggregator.aggregate(tunnel, new TunnelObservation(
                List.of("spec.relay.hostKeys: pin at least one"), null, KEY, null, null, NOW));

        assertThat(ready(status).getReason()).isEqualTo(Reasons.SPEC_INVALID);
        assertThat(ready(status).getMessage()).isEqualTo("spec.relay.hostKeys: pin at least one");
        assertThat(status.getForwards()).isEmpty();
        assertThat(status.getAuthorizedKey()).isNull();
    }
}
