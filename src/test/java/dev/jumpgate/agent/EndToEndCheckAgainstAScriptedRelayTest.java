package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.api.v1alpha1.ForwardCheck;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Tier 1: where the end-to-end check says a forward's path broke, for each way it breaks, against {@link ScriptedRelay}
 * (its network scripted: loopback-only listens, a firewall, a stranger at the address, targets that refuse or say the
 * wrong thing). The same checks against a real sshd are in {@code relay/EndToEndCheckRelayTest}.
 */
class EndToEndCheckAgainstAScriptedRelayTest {

    private static final String RELAY = "relay.example";
    private static final Duration TIMEOUT = Duration.ofMillis(300);

    private final ScriptedRelay relay = new ScriptedRelay();
    private final ForwardTraffic traffic = new ForwardTraffic();

    @Test
    void aWildcardListenIsReachedByTheRelaysOwnNameThroughTheAgentToTheTargetsBanner() throws Exception {
        EndToEndCheck.Result result = check(forward("0.0.0.0", 4040, 22, ForwardCheck.Auto));

        assertThat(result.reachable()).isTrue();
        assertThat(result.reason()).isEqualTo(Reasons.REACHABLE);
        assertThat(result.listeningOn()).isEqualTo(RELAY + ":4040");
        assertThat(result.latencyMillis()).isPositive();
        assertThat(relay.checkConnections).containsExactly(RELAY + ":4040");
    }

    @Test
    void aListenOnOneAddressIsCheckedAtThatAddress() throws Exception {
        EndToEndCheck.Result result = check(forward("127.0.0.1", 3838, 22, ForwardCheck.Auto));

        assertThat(result.reachable()).isTrue();
        assertThat(relay.checkConnections).containsExactly("127.0.0.1:3838");
    }

    @Test
    void aWildcardListenTheRelayBoundToLoopbackOnlyIsNamedAsSuch() throws Exception {
        relay.loopbackOnly = true; // sshd's GatewayPorts no

        EndToEndCheck.Result result = check(forward("0.0.0.0", 4040, 22, ForwardCheck.Auto));

        assertThat(result.reachable()).isFalse();
        assertThat(result.reason()).isEqualTo(Reasons.LISTENER_LOOPBACK_ONLY);
        assertThat(result.listeningOn()).isEqualTo("localhost:4040");
        assertThat(result.message()).contains("GatewayPorts");
        assertThat(relay.checkConnections).containsExactly(RELAY + ":4040", "localhost:4040");
    }

    @Test
    void aFirewallDroppingThePortOnTheRelayIsAnUnreachableListener() throws Exception {
        relay.droppedPorts.add(4040);

        EndToEndCheck.Result result = check(forward("0.0.0.0", 4040, 22, ForwardCheck.Auto));

        assertThat(result.reason()).isEqualTo(Reasons.LISTENER_UNREACHABLE);
        assertThat(result.message()).contains("timed out", "firewall");
        assertThat(result.listeningOn()).isNull();
    }

    @Test
    void somethingElseAnsweringAtTheListenIsNotLooped() throws Exception {
        relay.strangers.add(RELAY + ":4040");

        EndToEndCheck.Result result = check(forward("0.0.0.0", 4040, 22, ForwardCheck.Auto));

        assertThat(result.reason()).isEqualTo(Reasons.NOT_LOOPED);
        assertThat(traffic.sightings().arrivals()).isZero();
    }

    @Test
    void aTargetThatRefusesTimesOutOrHasNoAddressIsNamedForWhatItDid() throws Exception {
        assertThat(checkWithTarget(ScriptedRelay.Target.REFUSES).reason()).isEqualTo(Reasons.TARGET_REFUSED);
        assertThat(checkWithTarget(ScriptedRelay.Target.TIMES_OUT).reason()).isEqualTo(Reasons.TARGET_TIMEOUT);
        EndToEndCheck.Result unknown = checkWithTarget(ScriptedRelay.Target.UNKNOWN_HOST);
        assertThat(unknown.reason()).isEqualTo(Reasons.TARGET_UNREACHABLE);
        assertThat(unknown.message()).contains("10.8.92.10:22");
    }

    @Test
    void aTargetThatIsNoSshServerFailsTheBannerCheckAndPassesTheConnectCheck() throws Exception {
        relay.targets.put("10.8.92.10:22", ScriptedRelay.Target.HTTP_SERVER_WAITING);

        EndToEndCheck.Result banner = check(forward("0.0.0.0", 4040, 22, ForwardCheck.SSHBanner));
        assertThat(banner.reason()).isEqualTo(Reasons.TARGET_UNEXPECTED_ANSWER);
        assertThat(banner.message()).contains("sent nothing", "check to Connect");

        relay.targets.put("10.8.92.10:22", ScriptedRelay.Target.CLOSES_AT_ONCE);
        assertThat(check(forward("0.0.0.0", 4041, 22, ForwardCheck.SSHBanner)).message()).contains("without a word");

        relay.targets.put("10.8.92.10:22", ScriptedRelay.Target.HTTP_SERVER_WAITING);
        EndToEndCheck.Result connect = check(forward("0.0.0.0", 4042, 22, ForwardCheck.Connect));
        assertThat(connect.reachable()).isTrue();
    }

    @Test
    void aRelayThatForbidsTheChecksConnectionSaysHowToAllowIt() throws Exception {
        relay.prohibitsChecks = true;

        EndToEndCheck.Result result = check(forward("0.0.0.0", 4040, 22, ForwardCheck.Auto));

        assertThat(result.reason()).isEqualTo(Reasons.CHECK_NOT_PERMITTED);
        assertThat(result.message()).contains("status.authorizedKey", "AllowTcpForwarding yes", "check: None");
    }

    @Test
    void aSessionThatEndsUnderTheCheckGivesNoVerdict() throws Exception {
        ForwardSpec forward = forward("0.0.0.0", 4040, 22, ForwardCheck.Auto);
        RelaySession session = relay.open(config(forward), List.of(), () -> { });
        int port = session.bind(forward, traffic);
        relay.session(0).die();

        assertThat(EndToEndCheck.run(session, forward, port, RELAY, traffic, TIMEOUT)).isNull();
    }

    private EndToEndCheck.Result checkWithTarget(ScriptedRelay.Target target) throws Exception {
        relay.targets.put("10.8.92.10:22", target);
        return check(forward("127.0.0.1", 3000 + target.ordinal(), 22, ForwardCheck.Auto));
    }

    private EndToEndCheck.Result check(ForwardSpec forward) throws Exception {
        RelaySession session = relay.open(config(forward), List.of(), () -> { });
        int port = session.bind(forward, traffic);
        return EndToEndCheck.run(session, forward, port, RELAY, traffic, TIMEOUT);
    }

    private static ForwardSpec forward(String bind, int port, int targetPort, ForwardCheck check) {
        ForwardSpec forward = new ForwardSpec("f" + port, new RemoteEndpoint(bind, port),
                new TargetEndpoint("10.8.92.10", targetPort));
        forward.setCheck(check);
        return forward;
    }

    private static TunnelConfig config(ForwardSpec forward) {
        ReverseTunnelSpec spec = new ReverseTunnelSpec();
        spec.getRelay().setHost(RELAY);
        spec.getRelay().setUser("tunnel");
        spec.setForwards(new ArrayList<>(List.of(forward)));
        return new TunnelConfig(1, spec, Identity.of("test", "unused".getBytes(StandardCharsets.US_ASCII)), null);
    }
}
