package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.ProxyCredentials;
import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.HopState;
import dev.jumpgate.api.v1alpha1.JumpHost;
import dev.jumpgate.api.v1alpha1.ProxySpec;
import dev.jumpgate.api.v1alpha1.ProxyType;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.HopReport;
import dev.jumpgate.ssh.AuthorizedKeyLine;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.EgressProxy;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: spec.relay.proxy, the agent's way out of a cluster that reaches the Internet only through a proxy: real
 * tinyproxy (HTTP CONNECT with Basic auth) and microsocks (SOCKS5 with username and password) between the agent and a
 * real sshd relay.
 */
@Tag("relay")
class EgressProxyRelayTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private final RelayRig rig = new RelayRig("jumpgate:test/proxy");
    private EchoServer target;
    private OpenSshRelay relay;
    private TunnelAgent agent;
    private int door;

    @BeforeEach
    void relayAndTarget() {
        target = rig.closedAfter(new EchoServer());
        relay = rig.relay();
        door = OpenSshRelay.freePort();
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        rig.close();
    }

    private ReverseTunnelSpec through(ProxyType type, EgressProxy proxy) {
        ReverseTunnelSpec spec = spec(relay, forward("ssh", door, target.port()));
        spec.getRelay().setProxy(new ProxySpec(type, "127.0.0.1", proxy.port(), "proxy-credentials"));
        return spec;
    }

    private static ProxyCredentials credentials(String password) {
        return ProxyCredentials.of("Secret proxy-credentials", EgressProxy.USER.getBytes(StandardCharsets.UTF_8),
                password.getBytes(StandardCharsets.UTF_8));
    }

    private void run(ReverseTunnelSpec spec, ProxyCredentials credentials) {
        agent = new TunnelAgent(report -> { }).start();
        agent.apply(new TunnelConfig(1, spec, rig.identity(), null, credentials));
    }

    private boolean bound() {
        AgentReport report = agent.report();
        return report != null && report.allForwardsBound();
    }

    private AgentReport awaitReason(String reason) {
        await().atMost(PATIENCE).until(() -> agent.report() != null && reason.equals(agent.report().reason()));
        return agent.report();
    }

    @Test
    void throughAnHttpConnectProxyWithItsCredentialsTheForwardServes() {
        EgressProxy proxy = rig.closedAfter(EgressProxy.httpConnect(relay.port()));

        run(through(ProxyType.HTTPConnect, proxy), credentials(proxy.password()));

        await().atMost(PATIENCE).until(this::bound);
        assertThat(EchoClient.echoes(door, 64 * 1024)).isTrue();
        assertThat(proxy.log()).as("the session went through the proxy").contains("CONNECT 127.0.0.1:" + relay.port());
        assertThat(agent.report().message()).contains("through the HTTPConnect proxy 127.0.0.1:" + proxy.port());
    }

    @Test
    void throughASocks5ProxyWithItsCredentialsTheForwardServes() {
        EgressProxy proxy = rig.closedAfter(EgressProxy.socks5());

        run(through(ProxyType.SOCKS5, proxy), credentials(proxy.password()));

        await().atMost(PATIENCE).until(this::bound);
        assertThat(EchoClient.echoes(door, 64 * 1024)).isTrue();
        assertThat(proxy.log()).as("the session went through the proxy").contains("127.0.0.1:" + relay.port());
    }

    @Test
    void wrongCredentialsAreToldAsTheProxysRefusalWithoutThePassword() {
        EgressProxy http = rig.closedAfter(EgressProxy.httpConnect(relay.port()));
        run(through(ProxyType.HTTPConnect, http), credentials("not-" + http.password()));
        AgentReport report = awaitReason(Reasons.PROXY_REFUSED);
        assertThat(report.message()).contains("refused the credentials from Secret proxy-credentials")
                .doesNotContain(http.password());
        assertThat(report.connected()).isFalse();
        agent.close();

        EgressProxy socks = rig.closedAfter(EgressProxy.socks5());
        run(through(ProxyType.SOCKS5, socks), credentials("not-" + socks.password()));
        assertThat(awaitReason(Reasons.PROXY_REFUSED).message())
                .contains("SOCKS5 proxy refused the credentials").doesNotContain(socks.password());
    }

    @Test
    void aProxyThatAsksForCredentialsAndGetsNoneSaysWhereToPutThem() {
        EgressProxy http = rig.closedAfter(EgressProxy.httpConnect(relay.port()));
        ReverseTunnelSpec spec = through(ProxyType.HTTPConnect, http);
        spec.getRelay().getProxy().setCredentialsSecret(null);

        run(spec, null);

        assertThat(awaitReason(Reasons.PROXY_REFUSED).message()).contains("asks for credentials")
                .contains("spec.relay.proxy.credentialsSecret");
    }

    @Test
    void aProxyWhoseRulesForbidTheRelaysPortIsNamedAsTheObstacle() {
        EgressProxy proxy = rig.closedAfter(EgressProxy.httpConnect(443)); // CONNECT to 443 only, as many allow

        run(through(ProxyType.HTTPConnect, proxy), credentials(proxy.password()));

        assertThat(awaitReason(Reasons.PROXY_REFUSED).message()).contains("does not allow a connection to 127.0.0.1:"
                + relay.port());
    }

    @Test
    void aProxyThatIsDownIsToldApartFromTheRelay() throws Exception {
        EgressProxy proxy = rig.closedAfter(EgressProxy.httpConnect(relay.port()));
        proxy.close();

        run(through(ProxyType.HTTPConnect, proxy), credentials(proxy.password()));

        assertThat(awaitReason(Reasons.RELAY_UNREACHABLE).message()).contains("cannot reach the HTTPConnect proxy 127.0.0.1:"
                + proxy.port());
    }

    @Test
    void theProxyCarriesTheFirstHopAndTheJumpHostTheRest() {
        OpenSshRelay jump = rig.closedAfter(OpenSshRelay.withoutRecommendedBlock());
        jump.authorize(AuthorizedKeyLine.forJumpHost(rig.key().publicKey(), "127.0.0.1", relay.port(), "jumpgate:test/proxy"));
        EgressProxy proxy = rig.closedAfter(EgressProxy.httpConnect(jump.port())); // only the jump host is allowed out
        ReverseTunnelSpec spec = through(ProxyType.HTTPConnect, proxy);
        spec.getRelay().setVia(List.of(new JumpHost("127.0.0.1", jump.port(), jump.user(), List.of(jump.hostKey()))));

        run(spec, credentials(proxy.password()));

        await().atMost(PATIENCE).until(this::bound);
        assertThat(EchoClient.echoes(door, 1000)).isTrue();
        assertThat(agent.report().hops()).extracting(HopReport::state).containsExactly(HopState.Connected);
        assertThat(proxy.log()).contains("CONNECT 127.0.0.1:" + jump.port()).doesNotContain("CONNECT 127.0.0.1:" + relay.port());
    }
}
