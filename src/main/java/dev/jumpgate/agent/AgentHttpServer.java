package dev.jumpgate.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The agent's only door: health for its probes and metrics for Prometheus, read-only, on the JDK's own HTTP server
 * (no web framework in an agent: it would cost more memory than the tunnel). The paths are those Quarkus serves, so
 * probes and scrape configs read the same: /q/health, /q/health/live, /q/health/ready, /q/health/started and
 * /q/metrics. Anything else is 404, and anything but GET or HEAD is 405: nothing here writes.
 */
public final class AgentHttpServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService threads;

    private AgentHttpServer(HttpServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
    }

    /** Serves {@code runtime}'s health and {@code registry}'s metrics on {@code address} until closed. */
    public static AgentHttpServer start(InetSocketAddress address, AgentRuntime runtime, PrometheusMeterRegistry registry)
            throws IOException {
        Map<String, Function<AgentRuntime, List<AgentHealth>>> health = Map.of(
                "/q/health", r -> Stream.of(AgentHealth.liveness(r), AgentHealth.readiness(r), AgentHealth.started(r))
                        .flatMap(List::stream).toList(),
                "/q/health/live", AgentHealth::liveness,
                "/q/health/ready", AgentHealth::readiness,
                "/q/health/started", AgentHealth::started);
        HttpServer server = HttpServer.create(address, 16);
        server.createContext("/", exchange -> {
            try (exchange) {
                String path = exchange.getRequestURI().getRawPath();
                boolean metrics = path.equals("/q/metrics");
                if (!metrics && !health.containsKey(path)) {
                    reply(exchange, 404, "text/plain", "not found\n");
                } else if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    reply(exchange, 405, "text/plain", "read-only\n");
                } else if (metrics) {
                    reply(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
                } else {
                    List<AgentHealth> checks = health.get(path).apply(runtime);
                    boolean up = checks.stream().allMatch(AgentHealth::up);
                    reply(exchange, up ? 200 : 503, "application/json", json(up, checks));
                }
            }
        });
        // A thread per exchange, as the JDK's server reads a request on its executor's thread: with a fixed few, a
        // handful of clients that send half a request would hold them all, and the probes with them, until cut off.
        ExecutorService threads = Executors.newCachedThreadPool(SshThreads.named("jumpgate-http"));
        server.setExecutor(threads);
        server.start();
        return new AgentHttpServer(server, threads);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static String json(boolean up, List<AgentHealth> checks) {
        return Serialization.asJson(Map.of("status", status(up), "checks", checks.stream()
                .map(c -> Map.of("name", c.name(), "status", status(c.up()), "data", c.data())).toList()));
    }

    private static String status(boolean up) {
        return up ? "UP" : "DOWN";
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
