package dev.jumpgate.testing;

import dev.jumpgate.contract.ApiServerAccess;
import dev.jumpgate.agent.KubernetesApi;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * The agent's way to an API server (ApiServerAccess) for a server a test reaches with a Kubernetes client's
 * config: in a pod the agent uses its service account's files, which a test does not have.
 */
public final class ApiAccess {

    private ApiAccess() {
    }

    /** As the config's own user. */
    public static ApiServerAccess of(Config config) {
        return as(config, null);
    }

    /** As {@code user} (impersonated), with the rights RBAC grants that user and nothing more. */
    public static ApiServerAccess as(Config config, String user) {
        SSLContext tls;
        try {
            tls = SSLUtils.sslContext(config);
        } catch (Exception e) {
            throw new IllegalStateException("cannot build the TLS context of " + config.getMasterUrl(), e);
        }
        Map<String, String> headers = new HashMap<>();
        if (config.getAutoOAuthToken() != null) {
            headers.put("Authorization", "Bearer " + config.getAutoOAuthToken());
        }
        if (user != null) {
            headers.put("Impersonate-User", user);
        }
        Map<String, String> fixed = Map.copyOf(headers);
        return new ApiServerAccess(URI.create(config.getMasterUrl()), tls, () -> fixed);
    }
}
