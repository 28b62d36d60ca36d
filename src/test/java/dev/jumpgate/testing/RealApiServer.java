package dev.jumpgate.testing;

import dev.jumpgate.contract.ApiServerAccess;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.KubernetesApi;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * A real etcd and kube-apiserver (no nodes, no controllers), started by Fabric8's kube-api-test from the binaries
 * hack/kubernetes/build.sh built (hack/test.sh points KUBE_API_TEST_DIR at them and turns downloads off), with the
 * project's CRD installed.
 */
public final class RealApiServer implements AutoCloseable {

    public static final Path CRD = Path.of("crds", "reversetunnels.jumpgate.dev-v1.yml");

    private static final Logger LOG = Logger.getLogger(RealApiServer.class);
    private static final int START_ATTEMPTS = 2;

    private final KubeAPIServer server;
    private final String kubeconfig;

    private RealApiServer() {
        if (System.getenv("KUBE_API_TEST_DIR") == null) {
            throw new IllegalStateException("KUBE_API_TEST_DIR is not set: run the tests with hack/test.sh, "
                    + "which builds etcd and kube-apiserver");
        }
        server = started();
        kubeconfig = server.getKubeConfigYaml();
    }

    /**
     * etcd and kube-apiserver, ready. kube-api-test gives up on a start that is not ready within its timeout (seen
     * once in CI, with the build busy on both cores) and leaves the two processes it started running, where every
     * later class failed the same way: they are stopped, and the pair is started once more.
     */
    private static KubeAPIServer started() {
        for (int attempt = 1; ; attempt++) {
            KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig().withOfflineMode(true)
                    .build());
            try {
                server.start();
                return server;
            } catch (RuntimeException e) {
                try {
                    server.stop();
                } catch (RuntimeException stopFailed) {
                    e.addSuppressed(stopFailed);
                }
                if (attempt == START_ATTEMPTS) {
                    throw e;
                }
                LOG.warnf("etcd and kube-apiserver did not start (%s); stopped, starting them again", e.getMessage());
            }
        }
    }

    public static RealApiServer startWithCrd() {
        RealApiServer api = new RealApiServer();
        try (KubernetesClient client = api.client()) {
            CustomResourceDefinition crd = Serialization.unmarshal(Files.readString(CRD), CustomResourceDefinition.class);
            client.resource(crd).serverSideApply();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                CustomResourceDefinition c = client.apiextensions().v1().customResourceDefinitions()
                        .withName(crd.getMetadata().getName()).get();
                return c.getStatus() != null && c.getStatus().getConditions().stream()
                        .anyMatch(cond -> "Established".equals(cond.getType()) && "True".equals(cond.getStatus()));
            });
            // Discovery of the new group can lag the Established condition by a moment.
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> client.resources(ReverseTunnel.class).inAnyNamespace().list() != null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return api;
    }

    /** An administrator's client. */
    public KubernetesClient client() {
        return new KubernetesClientBuilder().withConfig(config()).build();
    }

    /** A client acting as this user, with the rights RBAC grants it and nothing more. */
    public KubernetesClient clientAs(String user) {
        return new KubernetesClientBuilder().withConfig(new ConfigBuilder(config()).withImpersonateUsername(user).build())
                .build();
    }

    /** The agent's way in (KubernetesApi), as {@code user}. */
    public ApiServerAccess accessAs(String user) {
        return ApiAccess.as(config(), user);
    }

    public Config config() {
        return Config.fromKubeconfig(kubeconfig);
    }

    /** The kubeconfig, written to a file, for kubectl. */
    public Path kubeconfigFile() {
        try {
            Path file = Files.createTempFile("jumpgate-kubeconfig", ".yaml");
            Files.writeString(file, kubeconfig);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.stop();
    }
}
