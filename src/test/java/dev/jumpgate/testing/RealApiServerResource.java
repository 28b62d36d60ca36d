package dev.jumpgate.testing;

import io.fabric8.kubernetes.client.Config;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Points the application's Kubernetes client at a {@link RealApiServer}. Use it through {@link Profile}, which also
 * turns server-side apply back on, as in production (a build-time setting, hence a profile).
 */
public class RealApiServerResource implements QuarkusTestResourceLifecycleManager {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.operator-sdk.enable-ssa", "true");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(RealApiServerResource.class));
        }
    }

    private static RealApiServer api;

    /** The server of the test class that uses this resource. */
    public static RealApiServer api() {
        return api;
    }

    @Override
    public Map<String, String> start() {
        api = RealApiServer.startWithCrd();
        Config config = api.config();
        Map<String, String> properties = new HashMap<>();
        properties.put("quarkus.kubernetes-client.api-server-url", config.getMasterUrl());
        // kube-api-test's kubeconfig names certificate files or carries them inline, depending on its version.
        put(properties, "ca-cert", config.getCaCertFile(), config.getCaCertData());
        put(properties, "client-cert", config.getClientCertFile(), config.getClientCertData());
        put(properties, "client-key", config.getClientKeyFile(), config.getClientKeyData());
        return properties;
    }

    private static void put(Map<String, String> properties, String name, String file, String data) {
        if (file != null) {
            properties.put("quarkus.kubernetes-client." + name + "-file", file);
        } else {
            properties.put("quarkus.kubernetes-client." + name + "-data", data);
        }
    }

    @Override
    public void stop() {
        if (api != null) {
            api.close();
        }
    }
}
