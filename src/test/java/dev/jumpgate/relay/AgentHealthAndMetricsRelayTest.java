package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.AgentRuntime;
import dev.jumpgate.agent.Identity;
import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.OpenSshRelay;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The agent inside the application, against a real relay: what its probes and Prometheus see. */
@Tag("relay")
@QuarkusTest
@TestProfile(AgentHealthAndMetricsRelayTest.AgentMode.class)
class AgentHealthAndMetricsRelayTest {

    /** The process as an agent pod runs it (the "agent" profile of application.properties). */
    public static class AgentMode implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("jumpgate.mode", "agent",
                    "quarkus.smallrye-health.check.\"io.quarkiverse.operatorsdk.runtime.OperatorHealthCheck\".enabled", "false");
        }
    }

    @Inject
    AgentRuntime runtime;

    @TestHTTPResource("/q/health/ready")
    URI ready;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private static HttpResponse<String> get(URI uri) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readinessFollowsTheTunnelAndMetricsCountItsTraffic() throws Exception {
        Ed25519KeyPair key = Ed25519KeyPair.generate("metrics");
        try (OpenSshRelay relay = OpenSshRelay.start(); EchoServer target = new EchoServer()) {
            relay.authorize(key.publicKey().toString());
            int port = OpenSshRelay.freePort();
            TunnelAgent agent = runtime.start(report -> { });
            agent.apply(new TunnelConfig(1, spec(relay, forward("ssh", port, target.port())),
                    Identity.of("test", key.privateKeyPem().getBytes(StandardCharsets.US_ASCII)), null));

            await().atMost(Duration.ofSeconds(20)).until(() -> get(ready).statusCode() == 200);
            assertThat(get(ready).body()).contains("Bound on port " + port);
            assertThat(EchoClient.echoes(port, 100_000)).isTrue();

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(get(metrics).body())
                    .contains("jumpgate_agent_connected 1.0")
                    .contains("jumpgate_agent_forward_bound{forward=\"ssh\"} 1.0")
                    .contains("jumpgate_agent_forward_connections_total{forward=\"ssh\"} 1.0")
                    .contains("jumpgate_agent_forward_open_connections{forward=\"ssh\"} 0.0")
                    .containsPattern("jumpgate_agent_forward_bytes_total\\{direction=\"to_target\",forward=\"ssh\"} 1[0-9]{5}")
                    .containsPattern("jumpgate_agent_forward_bytes_total\\{direction=\"from_target\",forward=\"ssh\"} 1[0-9]{5}")
                    .contains("jumpgate_agent_reconnects_total 0.0"));

            relay.kill();
            await().atMost(Duration.ofSeconds(20)).until(() -> get(ready).statusCode() == 503);
            assertThat(get(ready).body()).contains("RelayUnreachable");
            runtime.stop();
        }
    }
}
