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
import java.util.List;
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

    @TestHTTPResource("/")
    URI root;

    /**
     * The agent pod's only door, port 8080, tried as anyone in the cluster network could: it serves health and
     * metrics and nothing else, no Quarkus dev or management endpoint, and nothing there writes (SmallRye Health and
     * the Prometheus endpoint answer any method with the same read).
     */
    @Test
    void theAgentsHttpPortServesHealthAndMetricsAndNothingElse() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        Map<String, String> reads = Map.of("q/health", "\"checks\"", "q/health/live", "\"checks\"",
                "q/health/ready", "\"checks\"", "q/health/started", "\"checks\"", "q/health/group", "\"checks\"",
                "q/health/well", "\"checks\"", "q/metrics", "# TYPE");
        for (String path : reads.keySet()) {
            HttpResponse<String> read = http.send(HttpRequest.newBuilder(root.resolve(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(read.statusCode()).as(path).isIn(200, 503);
            for (String method : List.of("POST", "PUT", "DELETE", "PATCH")) {
                HttpResponse<String> write = http.send(HttpRequest.newBuilder(root.resolve(path))
                        .method(method, HttpRequest.BodyPublishers.ofString("{\"status\":\"DOWN\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (write.statusCode() != 404 && write.statusCode() != 405) {
                    assertThat(write.statusCode()).as(method + " " + path).isEqualTo(read.statusCode());
                    assertThat(write.body()).as(method + " " + path).contains(reads.get(path));
                }
            }
            assertThat(http.send(HttpRequest.newBuilder(root.resolve(path)).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).as("after the writes, " + path).isEqualTo(read.statusCode());
        }
        for (String path : List.of("", "q", "q/dev", "q/dev-ui", "q/openapi", "q/swagger-ui", "q/info", "q/env",
                "q/arc", "q/logging-manager", "q/metrics/../../etc/passwd", "q/dev-v1", "q/health/../../etc/passwd")) {
            int status = http.send(HttpRequest.newBuilder(root.resolve(path)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode();
            assertThat(status).as(path).isEqualTo(404);
        }
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
