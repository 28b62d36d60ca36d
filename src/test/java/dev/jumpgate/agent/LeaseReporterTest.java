package dev.jumpgate.agent;

import dev.jumpgate.contract.ApiServerAccess;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.CheckReport;
import dev.jumpgate.report.ForwardReport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's Lease writer during an API server outage: an API server that answers every request with 503, as an
 * overloaded or restarting one does, then recovers.
 */
class LeaseReporterTest {

    private static final String LEASE = "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
            + "\"metadata\":{\"name\":\"lab-agent\",\"namespace\":\"ns\"}}";

    private final AtomicInteger writes = new AtomicInteger();
    private final AtomicBoolean down = new AtomicBoolean(true);
    private final AtomicReference<String> lastWritten = new AtomicReference<>();
    private HttpServer apiServer;
    private KubernetesApi api;

    @BeforeEach
    void apiServer() throws Exception {
        apiServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        apiServer.createContext("/", exchange -> {
            writes.incrementAndGet();
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            byte[] answer = (down.get() ? "{\"kind\":\"Status\",\"code\":503}" : LEASE).getBytes(StandardCharsets.UTF_8);
            if (!down.get() && exchange.getRequestMethod().equals("PATCH")) {
                lastWritten.set(exchange.getRequestURI().getPath() + " "
                        + exchange.getRequestHeaders().getFirst("Content-Type") + " " + body);
            }
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(down.get() ? 503 : 200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        apiServer.start();
        // KubernetesApi retries nothing itself: what is counted is what the reporter asks for.
        api = new KubernetesApi(new ApiServerAccess(
                URI.create("http://127.0.0.1:" + apiServer.getAddress().getPort()), SSLContext.getDefault(), Map::of));
    }

    @AfterEach
    void stop() {
        apiServer.stop(0);
    }

    private static AgentReport report(int n) {
        return new AgentReport(1, true, Reasons.CONNECTED, "report " + n, null, n, null, null, null, null, false, null, null, List.of(),
                null);
    }

    @Test
    void reportsDuringAnOutageCoalesceIntoOneRetryAndTheNewestIsWrittenWhenTheApiServerIsBack() {
        try (LeaseReporter reporter = new LeaseReporter(api, "ns", "lab-agent", "pod", Duration.ofHours(1),
                Duration.ofMillis(200))) {
            for (int n = 1; n <= 50; n++) {
                reporter.accept(report(n));
            }

            // One retry every 100..300 ms: at most about 20 in 2 s plus the first writes of the burst. A retry per
            // failed write, each retrying itself, would be hundreds.
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> writes.get() <= 30);
            assertThat(writes.get()).isGreaterThan(3); // and it does keep trying

            down.set(false);
            await().atMost(Duration.ofSeconds(2)).until(() -> lastWritten.get() != null);
            assertThat(lastWritten.get()).startsWith("/apis/coordination.k8s.io/v1/namespaces/ns/leases/lab-agent "
                    + "application/merge-patch+json {").contains("report 50");
            int afterRecovery = writes.get();
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> writes.get() == afterRecovery);
        }
    }

    @Test
    void aReportWhoseOnlyNewsIsANewerCheckTimeWaitsForTheHeartbeatAndANewVerdictIsWrittenAtOnce() {
        down.set(false);
        try (LeaseReporter reporter = new LeaseReporter(api, "ns", "lab-agent", "pod", Duration.ofHours(1),
                Duration.ofMillis(200))) {
            reporter.accept(checked(true, "2026-12-01T00:00:00Z"));
            await().atMost(Duration.ofSeconds(2)).until(() -> writes.get() == 1);

            reporter.accept(checked(true, "2026-12-01T00:00:30Z"));
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(1)).until(() -> writes.get() == 1);

            reporter.accept(checked(false, "2026-12-01T00:01:00Z"));
            await().atMost(Duration.ofSeconds(2)).until(() -> writes.get() == 2);
            assertThat(lastWritten.get()).contains("\\\"reachable\\\":false");
        }
    }

    private static AgentReport checked(boolean reachable, String at) {
        return new AgentReport(1, true, Reasons.CONNECTED, "connected", null, 0, null, null, null, null, false, null, false,
                List.of(new ForwardReport("ssh", "0.0.0.0", 4040, 4040, "10.8.92.10:22", ForwardState.Bound,
                        reachable ? Reasons.REACHABLE : Reasons.TARGET_REFUSED, "checked", 0,
                        new CheckReport(reachable, at, reachable ? 3 : 0, "relay.example.com:4040"))), null);
    }
}
