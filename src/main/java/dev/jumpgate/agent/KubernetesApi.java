package dev.jumpgate.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumpgate.contract.ApiServerAccess;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * The agent's only conversations with the API server, on the JDK's HTTP client: read and watch its list of members
 * (a Secret), get its members' key Secrets, merge-patch their Leases. The Kubernetes client library does the same with about 6,700 classes
 * loaded (30 MB of metaspace measured in the agent's pod, more than the rest of the agent together); an agent that
 * makes three kinds of request, each allowed by its Role, does not need them.
 */
public final class KubernetesApi {

    private static final Logger LOG = Logger.getLogger(KubernetesApi.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** A single read or patch that takes longer than this has failed; the caller retries. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** A leader Lease's read or write (AgentLeadership looks every 250 ms to 1 s). */
    private static final Duration LEASE_TIMEOUT = Duration.ofSeconds(2);
    /**
     * The server ends a watch after this (client-go picks 5-10 minutes): a watch that silently died in the network
     * is replaced at the latest then, from the last resourceVersion seen.
     */
    static final int WATCH_SECONDS = 300;

    /** The API server answered with an error status ({@code code}); its message is the Status object's. */
    public static final class ApiException extends IOException {
        private final int code;

        ApiException(int code, String message) {
            super("HTTP " + code + (message == null || message.isBlank() ? "" : ": " + message));
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    /** One event of a watch: ADDED, MODIFIED, DELETED, BOOKMARK (only a newer resourceVersion) or ERROR. */
    record WatchEvent<T>(String type, T object, String resourceVersion, int errorCode) {
    }

    private final ApiServerAccess access;
    private final HttpClient http;

    public KubernetesApi(ApiServerAccess access) {
        this.access = access;
        // Daemon threads: the client's own threads never keep a stopping agent alive (HttpClient.close is Java 21).
        ExecutorService executor = Executors.newCachedThreadPool(SshThreads.named("jumpgate-api"));
        this.http = HttpClient.newBuilder().sslContext(access.tls()).connectTimeout(CONNECT_TIMEOUT)
                .executor(executor).build();
    }

    /** The data of a Secret, decoded; null if there is none of that name. */
    Map<String, byte[]> secretData(String namespace, String name) throws IOException {
        Secret secret = secret(namespace, name);
        return secret == null ? null : decoded(secret);
    }

    /** A Secret's data, decoded. */
    static Map<String, byte[]> decoded(Secret secret) {
        Map<String, byte[]> data = new HashMap<>();
        if (secret.getData() != null) {
            secret.getData().forEach((key, value) -> data.put(key, Base64.getDecoder().decode(value)));
        }
        return data;
    }

    /** The Secret as it is now, or null if there is none of that name. */
    Secret secret(String namespace, String name) throws IOException {
        return get(secrets(namespace) + "/" + segment(name), Secret.class);
    }

    private <T> T get(String path, Class<T> type) throws IOException {
        return get(path, type, REQUEST_TIMEOUT);
    }

    private <T> T get(String path, Class<T> type, Duration timeout) throws IOException {
        HttpResponse<InputStream> response = send(request(path).timeout(timeout).GET().build());
        if (response.statusCode() == 404) {
            response.body().close();
            return null;
        }
        try (InputStream body = ok(response)) {
            return Serialization.jsonMapper().readValue(body, type);
        }
    }

    /**
     * Watches the one Secret of that name from {@code resourceVersion}: the events as they arrive, until the
     * server ends the watch (after {@link #WATCH_SECONDS}) or the stream is closed.
     */
    Watch<Secret> watchSecret(String namespace, String name, String resourceVersion) throws IOException {
        String query = "?watch=true&allowWatchBookmarks=true&timeoutSeconds=" + WATCH_SECONDS
                + "&fieldSelector=" + URLEncoder.encode("metadata.name=" + name, StandardCharsets.UTF_8)
                + "&resourceVersion=" + URLEncoder.encode(resourceVersion, StandardCharsets.UTF_8);
        // No request timeout: a watch is meant to stay open; the server's timeoutSeconds ends it.
        return new Watch<>(ok(send(request(secrets(namespace) + query).GET().build())), Secret.class);
    }

    /**
     * The Lease as it is now, or null if there is none of that name; within {@link #LEASE_TIMEOUT}: an election's
     * look that waited longer would be out of date.
     */
    Lease lease(String namespace, String name) throws IOException {
        return get(leases(namespace) + "/" + segment(name), Lease.class, LEASE_TIMEOUT);
    }

    /**
     * Replaces the Lease with {@code lease}, on the condition that it is still the version read (its
     * resourceVersion): false when someone wrote it in between (409), so that two writers never both win.
     */
    boolean replaceLease(String namespace, Lease lease) throws IOException {
        HttpRequest put = request(leases(namespace) + "/" + segment(lease.getMetadata().getName()))
                .timeout(LEASE_TIMEOUT).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(Serialization.asJson(lease))).build();
        HttpResponse<InputStream> response = send(put);
        if (response.statusCode() == 409) {
            response.body().close();
            return false;
        }
        ok(response).close();
        return true;
    }

    private static String leases(String namespace) {
        return "/apis/coordination.k8s.io/v1/namespaces/" + segment(namespace) + "/leases";
    }

    /** A JSON merge patch of one Lease: only the fields in {@code json} change. */
    void mergePatchLease(String namespace, String name, String json) throws IOException {
        HttpRequest patch = request(leases(namespace) + "/" + segment(name)).timeout(REQUEST_TIMEOUT).header("Content-Type", "application/merge-patch+json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(json)).build();
        ok(send(patch)).close();
    }

    /** The events of one watch response, a JSON object per line. */
    static final class Watch<T> implements AutoCloseable {
        private final InputStream body;
        private final BufferedReader lines;
        private final Class<T> type;

        Watch(InputStream body, Class<T> type) {
            this.body = body;
            this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            this.type = type;
        }

        /** The next event, or null once the server has ended the watch. */
        WatchEvent<T> next() throws IOException {
            String line;
            do {
                line = lines.readLine();
                if (line == null) {
                    return null;
                }
            } while (line.isBlank());
            JsonNode event = Serialization.jsonMapper().readTree(line);
            String type = event.path("type").asText();
            JsonNode object = event.path("object");
            if ("ERROR".equals(type)) {
                return new WatchEvent<>(type, null, null, object.path("code").asInt());
            }
            String version = object.path("metadata").path("resourceVersion").asText(null);
            T value = "BOOKMARK".equals(type) ? null : Serialization.jsonMapper().treeToValue(object, this.type);
            return new WatchEvent<>(type, value, version, 0);
        }

        /**
         * Ends the watch from our side: cancels the response, and a reader blocked in {@link #next()} sees the end.
         * The response stream itself, not the reader: closing a reader waits for the lock a blocked read holds.
         */
        @Override
        public void close() throws IOException {
            body.close();
        }
    }

    private static String secrets(String namespace) {
        return "/api/v1/namespaces/" + segment(namespace) + "/secrets";
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        HttpRequest.Builder request = HttpRequest.newBuilder(access.server().resolve(pathAndQuery))
                .header("Accept", "application/json").header("User-Agent", "jumpgate-agent");
        access.headers().get().forEach(request::header);
        return request;
    }

    private HttpResponse<InputStream> send(HttpRequest request) throws IOException {
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            LOG.debugf("%s %s: %d", request.method(), request.uri().getRawPath(), response.statusCode());
            return response;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** The body of a 2xx answer; any other answer becomes an ApiException with the Status object's message. */
    private static InputStream ok(HttpResponse<InputStream> response) throws IOException {
        int code = response.statusCode();
        if (code / 100 == 2) {
            return response.body();
        }
        String message;
        try (InputStream body = response.body()) {
            byte[] text = body.readNBytes(4096);
            try {
                message = Serialization.jsonMapper().readTree(text).path("message").asText(null);
            } catch (IOException notJson) {
                message = null;
            }
        }
        throw new ApiException(code, message);
    }

    /** Names are DNS labels by the API's own rules; encoding them anyway keeps a bad one from changing the path. */
    private static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8);
    }
}
