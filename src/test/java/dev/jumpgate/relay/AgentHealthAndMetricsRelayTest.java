package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.AgentHttpServer;
import dev.jumpgate.agent.AgentRuntime;
import dev.jumpgate.agent.Identity;
import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.testing.ChartMetrics;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.OpenSshRelay;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The agent's HTTP door, as its own process serves it (AgentMain), against a real relay: what probes and Prometheus see. */
@Tag("relay")
class AgentHealthAndMetricsRelayTest {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AgentRuntime runtime = new AgentRuntime(registry);
    private final HttpClient http = HttpClient.newHttpClient();
    private AgentHttpServer server;
    private URI root;

    @BeforeEach
    void serve() throws Exception {
        server = AgentHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), runtime, registry);
        root = URI.create("http://127.0.0.1:" + server.port() + "/");
    }

    @AfterEach
    void stop() {
        runtime.stop();
        server.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(root.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The agent pod's only door, port 8080, tried as anyone in the cluster network could: it serves health and
     * metrics and nothing else, every write is refused, and no path leads anywhere else.
     */
    @Test
    void theAgentsHttpPortServesHealthAndMetricsAndNothingElse() throws Exception {
        Map<String, String> reads = Map.of("q/health", "\"checks\"", "q/health/live", "\"checks\"",
                "q/health/ready", "\"checks\"", "q/health/started", "\"checks\"", "q/metrics", "# TYPE");
        for (String path : reads.keySet()) {
            HttpResponse<String> read = get(path);
            assertThat(read.statusCode()).as(path).isIn(200, 503);
            assertThat(read.body()).as(path).contains(reads.get(path));
            for (String method : List.of("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")) {
                HttpResponse<String> write = http.send(HttpRequest.newBuilder(root.resolve(path))
                        .method(method, HttpRequest.BodyPublishers.ofString("{\"status\":\"DOWN\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(write.statusCode()).as(method + " " + path).isEqualTo(405);
                assertThat(write.headers().firstValue("Allow")).as(method + " " + path).hasValue("GET, HEAD");
            }
            assertThat(get(path).statusCode()).as("after the writes, " + path).isEqualTo(read.statusCode());
        }
        for (String path : List.of("", "q", "q/", "q/health/", "q/dev", "q/dev-ui", "q/openapi", "q/info", "q/env",
                "q/health/group", "q/metrics/", "q/metrics?x=1/../..", "q/metrics/../../etc/passwd",
                "q/health/../../etc/passwd", "q/health/%2e%2e/metrics", "Q/METRICS")) {
            assertThat(get(path).statusCode()).as(path).isEqualTo(path.startsWith("q/metrics?") ? 200 : 404);
        }
    }

    /** Clients that send half a request and stop do not hold the probes (AgentMain also has the JDK cut them off). */
    @Test
    void clientsThatStallMidRequestDoNotHoldTheProbes() throws Exception {
        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 32; i++) {
                Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port());
                OutputStream out = socket.getOutputStream();
                out.write("GET /q/metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                stalled.add(socket);
            }
            HttpResponse<String> live = http.send(HttpRequest.newBuilder(root.resolve("q/health/live"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(live.statusCode()).isEqualTo(200);
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
    }

    @Test
    void readinessFollowsTheTunnelAndMetricsCountItsTraffic() throws Exception {
        assertThat(get("q/health/ready").statusCode()).as("before the agent runs").isEqualTo(503);
        assertThat(get("q/health/ready").body()).contains("starting");
        Ed25519KeyPair key = Ed25519KeyPair.generate("metrics");
        try (OpenSshRelay relay = OpenSshRelay.start(); EchoServer target = new EchoServer()) {
            relay.authorize(key.publicKey().toString());
            int port = OpenSshRelay.freePort();
            TunnelAgent agent = runtime.start("lab", report -> { });
            runtime.markStarted();
            agent.apply(new TunnelConfig(1, spec(relay, forward("ssh", port, target.port())),
                    Identity.of("test", key.privateKeyPem().getBytes(StandardCharsets.US_ASCII)), null));

            await().atMost(Duration.ofSeconds(20)).until(() -> get("q/health/ready").statusCode() == 200);
            assertThat(get("q/health/ready").body()).contains("Bound on port " + port).contains("\"status\":\"UP\"");
            assertThat(get("q/health/live").statusCode()).isEqualTo(200);
            assertThat(EchoClient.echoes(port, 100_000)).isTrue();

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(get("q/metrics").body())
                    .contains("jumpgate_agent_connected{tunnel=\"lab\",} 1.0")
                    .contains("jumpgate_agent_forward_bound{forward=\"ssh\",tunnel=\"lab\",} 1.0")
                    // the echo's; the end-to-end check's connection is the check's, not a user's
                    .contains("jumpgate_agent_forward_connections_total{forward=\"ssh\",tunnel=\"lab\",} 1.0")
                    .contains("jumpgate_agent_forward_open_connections{forward=\"ssh\",tunnel=\"lab\",} 0.0")
                    .containsPattern("jumpgate_agent_forward_bytes_total\\{direction=\"to_target\",forward=\"ssh\",tunnel=\"lab\",} 1[0-9]{5}")
                    .containsPattern("jumpgate_agent_forward_bytes_total\\{direction=\"from_target\",forward=\"ssh\",tunnel=\"lab\",} 1[0-9]{5}")
                    .contains("jumpgate_agent_reconnects_total{tunnel=\"lab\",} 0.0"));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(get("q/metrics").body())
                    .contains("jumpgate_agent_forward_reachable{forward=\"ssh\",tunnel=\"lab\",} 1.0")
                    .containsPattern("jumpgate_agent_forward_checks_total\\{forward=\"ssh\",result=\"passed\",tunnel=\"lab\",} [1-9]"));
            Set<String> used = ChartMetrics.usedByTheChart();
            assertThat(used).as("the chart's alerts and dashboard read the agent's metrics")
                    .contains("jumpgate_agent_forward_reachable", "jumpgate_agent_connected");
            assertThat(ChartMetrics.served(get("q/metrics").body())).as("what the agent serves").containsAll(used);

            relay.kill();
            await().atMost(Duration.ofSeconds(20)).until(() -> get("q/health/ready").statusCode() == 503);
            assertThat(get("q/health/ready").body()).contains("RelayUnreachable").contains("\"status\":\"DOWN\"");
            assertThat(get("q/health/live").statusCode()).as("the loop still runs: no restart for a lost relay")
                    .isEqualTo(200);
        }
    }
}
