package dev.jumpgate.relay;

import dev.jumpgate.contract.ApiServerAccess;
import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.AgentRuntime;
import dev.jumpgate.agent.KubernetesApi;
import dev.jumpgate.agent.PoolAgent;
import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.contract.PoolConfig;
import dev.jumpgate.contract.PoolConfig.Member;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.FakePoolApi;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: one pool agent (PoolAgent, as in its pod) holding several tunnels to a real sshd, its pool's list changed
 * under it as the operator changes it. Whatever happens to one member (its relay gone, its key unreadable, its
 * removal), the others keep their very sessions: same session start, no reconnect, traffic flowing.
 */
@Tag("relay")
class PoolIsolationRelayTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private final RelayRig rig = new RelayRig("jumpgate:test/pool");
    private final AgentRuntime runtime = new AgentRuntime(new SimpleMeterRegistry());
    private FakePoolApi api;
    private PoolAgent pool;

    @AfterEach
    void stop() throws Exception {
        if (pool != null) {
            pool.close();
        }
        if (api != null) {
            api.close();
        }
        rig.close();
    }

    private static Member member(String tunnel, long generation, ReverseTunnelSpec spec, String keySecret) {
        return new Member(tunnel, generation, Serialization.jsonMapper().valueToTree(spec), null, tunnel + "-agent",
                keySecret, "ssh-privatekey", keySecret + ":1");
    }

    private AgentReport report(String tunnel) {
        TunnelAgent agent = runtime.agents().get(tunnel);
        return agent == null ? null : agent.report();
    }

    private boolean bound(String tunnel) {
        AgentReport report = report(tunnel);
        return report != null && report.connected() && report.allForwardsBound();
    }

    @Test
    void oneMembersBrokenRelayUnreadableKeyOrRemovalLeavesTheOthersSessionsAlone() throws Exception {
        OpenSshRelay relay = rig.relay();
        EchoServer target = rig.closedAfter(new EchoServer());
        int portA = OpenSshRelay.freePort();
        int portB = OpenSshRelay.freePort();
        Member a = member("a", 1, spec(relay, forward("ssh", portA, target.port())), "a-key");
        Member b = member("b", 1, spec(relay, forward("ssh", portB, target.port())), "b-key");
        api = new FakePoolApi(new PoolConfig(List.of(a, b)));
        byte[] key = rig.key().privateKeyPem().getBytes(StandardCharsets.US_ASCII);
        api.secret("a-key", key);
        api.secret("b-key", key);
        pool = PoolAgent.start(runtime, new KubernetesApi(new ApiServerAccess(api.uri(), SSLContext.getDefault(),
                Map::of)), new PoolAgent.Settings(FakePoolApi.NAMESPACE, FakePoolApi.POOL, "pool-pod"));

        await().atMost(PATIENCE).until(() -> bound("a") && bound("b"));
        String aSince = report("a").connectedSince();

        // b's relay moves to a port where nothing listens; c joins with a key Secret that is not there (yet).
        ReverseTunnelSpec lost = spec(relay, forward("ssh", portB, target.port()));
        lost.getRelay().setPort(OpenSshRelay.freePort());
        Member c = member("c", 1, spec(relay, forward("ssh", OpenSshRelay.freePort(), target.port())), "c-key");
        api.publish(new PoolConfig(List.of(a, member("b", 2, lost, "b-key"), c)));

        await().atMost(PATIENCE).until(() -> report("b") != null && Reasons.RELAY_UNREACHABLE.equals(report("b").reason()));
        assertThat(runtime.agents()).as("c waits for its key; the others are served").containsOnlyKeys("a", "b");
        assertThat(OpenSshRelay.listening(portB)).as("b's forward went with its session").isFalse();
        assertThat(report("a").connectedSince()).as("a kept its session").isEqualTo(aSince);
        assertThat(report("a").reconnects()).isZero();
        assertThat(EchoClient.echoes(portA, 10_000)).isTrue();

        // c's key appears: c is taken up on the agent's retry, a still untouched.
        api.secret("c-key", key);
        await().atMost(PATIENCE).until(() -> bound("c"));

        // b leaves the pool: its agent stops; a and c go on.
        api.publish(new PoolConfig(List.of(a, c)));
        await().atMost(PATIENCE).until(() -> !runtime.agents().containsKey("b"));
        assertThat(report("a").connectedSince()).isEqualTo(aSince);
        assertThat(report("a").forwards()).extracting(f -> f.state()).containsExactly(ForwardState.Bound);
        assertThat(EchoClient.echoes(portA, 10_000)).isTrue();

        assertThat(api.strayRequests).as("nothing asked beyond the pool's list, keys and Leases").isEmpty();
        assertThat(api.leasePatches).as("each report went to its own tunnel's Lease").isNotEmpty()
                .allSatisfy(lease -> assertThat(lease).isIn("a-agent", "b-agent", "c-agent"));
    }

    @Test
    void aKeySecretTheApiServerIsSlowToGiveHoldsBackItsOwnMemberOnlyAndNotItsSpecChange() throws Exception {
        OpenSshRelay relay = rig.relay();
        EchoServer target = rig.closedAfter(new EchoServer());
        int portA = OpenSshRelay.freePort();
        Member a = member("a", 1, spec(relay, forward("ssh", portA, target.port())), "a-key");
        api = new FakePoolApi(new PoolConfig(List.of(a)));
        byte[] key = rig.key().privateKeyPem().getBytes(StandardCharsets.US_ASCII);
        api.secret("a-key", key);
        api.secret("d-key", key);
        api.stall("a-key-rotated");
        api.stall("e-key");
        pool = PoolAgent.start(runtime, new KubernetesApi(new ApiServerAccess(api.uri(), SSLContext.getDefault(),
                Map::of)), new PoolAgent.Settings(FakePoolApi.NAMESPACE, FakePoolApi.POOL, "pool-pod"));
        await().atMost(PATIENCE).until(() -> bound("a"));
        String aSince = report("a").connectedSince();

        // One change of the list: a gets a second forward and a new key whose Secret the API server holds back;
        // e joins with such a key too; d joins with a key that comes at once.
        int portA2 = OpenSshRelay.freePort();
        int portD = OpenSshRelay.freePort();
        Member a2 = member("a", 2, spec(relay, forward("ssh", portA, target.port()),
                forward("web", portA2, target.port())), "a-key-rotated");
        Member d = member("d", 1, spec(relay, forward("ssh", portD, target.port())), "d-key");
        Member e = member("e", 1, spec(relay, forward("ssh", OpenSshRelay.freePort(), target.port())), "e-key");
        api.publish(new PoolConfig(List.of(a2, d, e)));

        // Well within the 30 s the agent gives one request: nobody waited for the held-back reads.
        await().atMost(Duration.ofSeconds(10)).until(() -> bound("d") && OpenSshRelay.listening(portA2));
        assertThat(api.stalledReads.get()).as("both held-back Secrets were asked for").isGreaterThanOrEqualTo(2);
        assertThat(runtime.agents()).as("e waits for its key").containsOnlyKeys("a", "d");
        assertThat(report("a").connectedSince()).as("a's spec change went ahead on its session and key").isEqualTo(aSince);
        assertThat(EchoClient.echoes(portA2, 10_000)).isTrue();
        assertThat(EchoClient.echoes(portD, 10_000)).isTrue();
    }
}
