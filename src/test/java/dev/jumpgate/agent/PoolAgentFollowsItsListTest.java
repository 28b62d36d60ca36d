package dev.jumpgate.agent;

import dev.jumpgate.contract.ApiServerAccess;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.jumpgate.testing.FakePoolApi;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the agent in its pod follows its pool's list of members, a Secret (KubernetesApi, PoolAgent), against an API server that does
 * what real ones do over a watch's life: ends a watch, answers a too-old version with 410 Gone, holds a watch open;
 * and asks for nothing but that list, its members' key Secrets and their Leases.
 */
class PoolAgentFollowsItsListTest {

    private static final String SECRETS = "/api/v1/namespaces/ns/secrets";
    private static final String KEY_SECRET = "/api/v1/namespaces/ns/secrets/lab-key";

    /** What the agent asked, in order: "read" or "watch from <resourceVersion>". */
    private final List<String> asked = new CopyOnWriteArrayList<>();
    private final List<String> badRequests = new CopyOnWriteArrayList<>();
    private final AtomicInteger reads = new AtomicInteger();
    private final AtomicInteger watches = new AtomicInteger();
    private final CountDownLatch serverDone = new CountDownLatch(1);
    private final ExecutorService handlers = Executors.newCachedThreadPool();
    private HttpServer apiServer;

    @BeforeEach
    void apiServer() throws IOException {
        apiServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        apiServer.setExecutor(handlers);
        apiServer.createContext("/", this::answer);
        apiServer.start();
    }

    @AfterEach
    void stop() {
        serverDone.countDown();
        apiServer.stop(0);
        handlers.shutdownNow();
    }

    private void answer(HttpExchange exchange) throws IOException {
        if (!"Bearer t0k3n".equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            badRequests.add("no token: " + exchange.getRequestURI());
        }
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getRawQuery();
        if (exchange.getRequestMethod().equals("PATCH")) { // the Lease
            FakePoolApi.reply(exchange, 200, "{}");
        } else if (path.equals(KEY_SECRET)) {
            FakePoolApi.reply(exchange, 200, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"lab-key\"},"
                    + "\"data\":{\"ssh-privatekey\":\"a2V5\"}}");
        } else if (path.equals(SECRETS + "/default-pool")) {
            asked.add("read");
            FakePoolApi.reply(exchange, 200, pool(10 + 2 * reads.getAndIncrement()));
        } else if (path.equals(SECRETS) && query != null && query.contains("watch=true")) {
            if (!query.contains("fieldSelector=metadata.name%3Ddefault-pool")) {
                badRequests.add("a watch of more than its own list: " + query);
            }
            String from = query.replaceAll(".*resourceVersion=([0-9]+).*", "$1");
            asked.add("watch from " + from);
            exchange.sendResponseHeaders(200, 0);
            OutputStream events = exchange.getResponseBody();
            switch (watches.incrementAndGet()) {
                case 1 -> { // one change, then the server ends the watch (its timeoutSeconds)
                    events.write(("{\"type\":\"MODIFIED\",\"object\":" + pool(11) + "}\n").getBytes(StandardCharsets.UTF_8));
                    events.close();
                }
                case 2 -> { // the version is too old to watch from (compacted)
                    events.write("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}\n"
                            .getBytes(StandardCharsets.UTF_8));
                    events.close();
                }
                default -> { // open, with nothing to say, until the test ends
                    events.flush();
                    try {
                        serverDone.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    exchange.close();
                }
            }
        } else {
            badRequests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            FakePoolApi.reply(exchange, 404, "{}");
        }
    }

    /** The pool's list at that version: one member, tunnel lab. */
    private static String pool(int resourceVersion) {
        String member = "{\"tunnel\":\"lab\",\"generation\":1,\"lease\":\"lab-agent\",\"keySecret\":\"lab-key\","
                + "\"keyDataKey\":\"ssh-privatekey\",\"keyVersion\":\"u:1\",\"spec\":{\"relay\":{\"host\":\"127.0.0.1\","
                + "\"port\":1,\"user\":\"tunnel\",\"hostKeyPolicy\":\"AcceptNew\"},\"forwards\":[{\"name\":\"ssh\","
                + "\"remote\":{\"port\":4040},\"target\":{\"host\":\"127.0.0.1\",\"port\":22}}]}}";
        String data = "{\"members\":[" + member + "]}";
        return FakePoolApi.listSecret(data, resourceVersion);
    }

    @Test
    void watchesAreRenewedFromTheLastVersionAGoneVersionIsReadAgainAndCloseEndsAnOpenWatchAtOnce() throws Exception {
        KubernetesApi api = new KubernetesApi(new ApiServerAccess(
                URI.create("http://127.0.0.1:" + apiServer.getAddress().getPort()), SSLContext.getDefault(),
                () -> Map.of("Authorization", "Bearer t0k3n")));
        AgentRuntime runtime = new AgentRuntime(new SimpleMeterRegistry());
        PoolAgent agent = PoolAgent.start(runtime, api, new PoolAgent.Settings("ns", "default-pool", "pod"));
        try {
            // The ended watch is renewed from the version its last event carried (11); the 410 sends the agent back
            // to a read (version 12), and it watches from there.
            await().atMost(Duration.ofSeconds(20)).until(() -> asked.size() >= 5);
            assertThat(asked).startsWith("read", "watch from 10", "watch from 11", "read", "watch from 12");
            assertThat(badRequests).isEmpty();
            assertThat(runtime.agents()).as("the member is served, its key read through the API").containsOnlyKeys("lab");
        } finally {
            // While the third watch is open and silent: closing does not wait for the server to say something.
            assertTimeoutPreemptively(Duration.ofSeconds(3), agent::close);
        }
    }
}
