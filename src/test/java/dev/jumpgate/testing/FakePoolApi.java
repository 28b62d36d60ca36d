package dev.jumpgate.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.contract.PoolConfig;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The few API calls of a pool's agent, served from memory: its list of members (a Secret: read, and one watch that delivers every
 * {@link #publish} as a MODIFIED event), its members' key Secrets, their Leases' patches (recorded). What the agent
 * asks outside of that is recorded as a stray request, for the test to refuse.
 */
public final class FakePoolApi implements AutoCloseable {

    public static final String NAMESPACE = "ns";
    public static final String POOL = "default-pool";

    private final HttpServer server;
    private final ExecutorService handlers = Executors.newCachedThreadPool();
    private final Map<String, byte[]> secrets = new ConcurrentHashMap<>();
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final AtomicInteger version = new AtomicInteger(1);
    private volatile String current;
    private volatile boolean closed;
    /** The Leases patched, by name, in order. */
    public final List<String> leasePatches = new CopyOnWriteArrayList<>();
    public final List<String> strayRequests = new CopyOnWriteArrayList<>();
    /** Reads of a stalled Secret the agent made. */
    public final AtomicInteger stalledReads = new AtomicInteger();
    private final Set<String> stalled = ConcurrentHashMap.newKeySet();

    public FakePoolApi(PoolConfig initial) throws IOException {
        current = listSecret(initial);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(handlers);
        server.createContext("/", this::answer);
        server.start();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** A Secret whose reads the server holds until the test ends: an API server slow to give one key. */
    public void stall(String name) {
        stalled.add(name);
    }

    /** A member's key, as its Secret holds it under ssh-privatekey. */
    public void secret(String name, byte[] privateKey) {
        secrets.put(name, privateKey);
    }

    /** The pool's list as the operator would write it next: the agent's watch sees it. */
    public void publish(PoolConfig config) {
        current = listSecret(config);
        events.add(current);
    }

    private String listSecret(PoolConfig config) {
        return listSecret(Serialization.asJson(config), version.incrementAndGet());
    }

    /** The pool's list of members as the API server answers it: a Secret holding {@code poolJson}, at that version. */
    public static String listSecret(String poolJson, int resourceVersion) {
        return Serialization.asJson(Map.of("apiVersion", "v1", "kind", "Secret",
                "metadata", Map.of("name", POOL, "namespace", NAMESPACE, "resourceVersion",
                        Integer.toString(resourceVersion)),
                "data", Map.of(AgentContract.POOL_CONFIG_KEY, Base64.getEncoder().encodeToString(
                        poolJson.getBytes(StandardCharsets.UTF_8)))));
    }

    private void answer(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getRawQuery();
        String secretPrefix = "/api/v1/namespaces/" + NAMESPACE + "/secrets/";
        String leasePrefix = "/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases/";
        if (exchange.getRequestMethod().equals("PATCH") && path.startsWith(leasePrefix)) {
            leasePatches.add(path.substring(leasePrefix.length()));
            reply(exchange, 200, "{}");
        } else if (path.equals(secretPrefix + POOL)) {
            reply(exchange, 200, current);
        } else if (path.equals(secretPrefix.substring(0, secretPrefix.length() - 1)) && query != null
                && query.contains("watch=true")
                && query.contains("fieldSelector=metadata.name%3D" + POOL)) {
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            out.flush();
            try {
                while (!closed) {
                    String next = events.poll(100, TimeUnit.MILLISECONDS);
                    if (next != null) {
                        out.write(("{\"type\":\"MODIFIED\",\"object\":" + next + "}\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    }
                }
            } catch (InterruptedException | IOException e) {
                // the agent closed its watch, or the test ended
            }
            exchange.close();
        } else if (exchange.getRequestMethod().equals("GET") && path.startsWith(secretPrefix)
                && stalled.contains(path.substring(secretPrefix.length()))) {
            stalledReads.incrementAndGet();
            while (!closed) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    break;
                }
            }
            exchange.close();
        } else if (exchange.getRequestMethod().equals("GET") && path.startsWith(secretPrefix)
                && secrets.containsKey(path.substring(secretPrefix.length()))) {
            String name = path.substring(secretPrefix.length());
            reply(exchange, 200, Serialization.asJson(Map.of("apiVersion", "v1", "kind", "Secret",
                    "metadata", Map.of("name", name), "data",
                    Map.of("ssh-privatekey", Base64.getEncoder().encodeToString(secrets.get(name))))));
        } else if (path.startsWith(secretPrefix)) {
            reply(exchange, 404, "{\"kind\":\"Status\",\"code\":404,\"message\":\"not found\"}");
        } else {
            strayRequests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            reply(exchange, 403, "{\"kind\":\"Status\",\"code\":403}");
        }
    }

    /** A JSON answer of {@code code}, the exchange closed. */
    public static void reply(HttpExchange exchange, int code, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(code, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @Override
    public void close() {
        closed = true;
        server.stop(0);
        handlers.shutdownNow();
    }
}
