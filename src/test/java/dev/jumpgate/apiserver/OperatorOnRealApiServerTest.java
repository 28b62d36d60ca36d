package dev.jumpgate.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.AgentRuntime;
import dev.jumpgate.agent.ClusterAgent;
import dev.jumpgate.agent.KubernetesApi;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import dev.jumpgate.api.v1alpha1.TunnelCondition;
import dev.jumpgate.operator.AgentKey;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import dev.jumpgate.operator.ReverseTunnelReconciler;
import dev.jumpgate.operator.status.StatusAggregator;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RealApiServerResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.processing.Controller;
import io.javaoperatorsdk.operator.processing.event.source.informer.ManagedInformerEventSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 3 on a real kube-apiserver: server-side apply as in production, RBAC enforced. No node runs pods here; the
 * agent runs in the test JVM as its pod would, with its ServiceAccount's rights only.
 */
@Tag("apiserver")
@QuarkusTest
@TestProfile(RealApiServerResource.Profile.class)
class OperatorOnRealApiServerTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Inject
    KubernetesClient client;

    @Inject
    Operator operator;

    /** The agent's runtime as its own process makes it (AgentMain), here beside the operator in the test's JVM. */
    private final AgentRuntime runtime = new AgentRuntime(new SimpleMeterRegistry());

    @BeforeEach
    void startOperator() {
        operator.start();
    }

    private String namespace(String name) {
        client.resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build()).serverSideApply();
        return name;
    }

    private ReverseTunnel tunnel(String namespace, OpenSshRelay relay, int remotePort, int targetPort) {
        ReverseTunnelSpec spec = new ReverseTunnelSpec();
        spec.getRelay().setHost("127.0.0.1");
        spec.getRelay().setPort(relay == null ? 22 : relay.port());
        spec.getRelay().setUser(relay == null ? "tunnel" : relay.user());
        spec.getRelay().setHostKeys(new ArrayList<>(List.of(relay == null
                ? "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN" : relay.hostKey())));
        spec.setForwards(new ArrayList<>(List.of(new ForwardSpec("ssh", new RemoteEndpoint("127.0.0.1", remotePort),
                new TargetEndpoint("127.0.0.1", targetPort)))));
        ReverseTunnel tunnel = new ReverseTunnel();
        tunnel.setMetadata(new ObjectMetaBuilder().withName("lab").withNamespace(namespace).build());
        tunnel.setSpec(spec);
        return client.resource(tunnel).create();
    }

    private ReverseTunnel current(String namespace) {
        return client.resources(ReverseTunnel.class).inNamespace(namespace).withName("lab").get();
    }

    private TunnelCondition ready(String namespace) {
        return StatusAggregator.readyCondition(current(namespace).getStatus());
    }

    @Test
    void theOperatorAppliesItsObjectsAndStatusWithServerSideApply() {
        String ns = namespace("ssa");
        tunnel(ns, null, 4040, 22);

        await().atMost(PATIENCE).until(() -> client.apps().deployments().inNamespace(ns).withName("lab-agent").get() != null);
        await().atMost(PATIENCE).until(() -> ready(ns) != null && Reasons.AGENT_STARTING.equals(ready(ns).getReason()));

        Deployment agent = client.apps().deployments().inNamespace(ns).withName("lab-agent").get();
        assertThat(agent.getMetadata().getManagedFields()).anySatisfy(f -> assertThat(f.getOperation()).isEqualTo("Apply"));
        assertThat(client.network().v1().networkPolicies().inNamespace(ns).withName("lab-agent").get().getSpec()
                .getEgress()).as("the API server took the agent's NetworkPolicy").hasSize(4);
        assertThat(current(ns).getStatus().getAuthorizedKey()).startsWith("restrict,port-forwarding,command=\"echo 'this key only holds a Jumpgate tunnel' >&2; exit 1\",permitopen=\"127.0.0.1:4040\",permitlisten=\"127.0.0.1:4040\"");
    }

    @Test
    void theAgentsServiceAccountMayTouchItsOwnTunnelAndLeaseOnly() {
        String ns = namespace("rbac");
        tunnel(ns, null, 4040, 22);
        await().atMost(PATIENCE).until(() -> client.rbac().roleBindings().inNamespace(ns).withName("lab-agent").get() != null
                && client.leases().inNamespace(ns).withName("lab-agent").get() != null);
        ReverseTunnel other = tunnel(namespace("rbac-other"), null, 4041, 22);

        try (KubernetesClient agent = RealApiServerResource.api().clientAs("system:serviceaccount:" + ns + ":lab-agent")) {
            assertThat(agent.resources(ReverseTunnel.class).inNamespace(ns).withName("lab").get()).isNotNull();
            agent.leases().inNamespace(ns).withName("lab-agent")
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"annotations\":{\"a\":\"b\"}}}");

            assertForbidden(() -> agent.resources(ReverseTunnel.class).inNamespace(other.getMetadata().getNamespace())
                    .withName("lab").get());
            assertForbidden(() -> agent.secrets().inNamespace(ns).withName("lab-key").get());
            assertForbidden(() -> agent.resources(ReverseTunnel.class).inNamespace(ns).withName("lab")
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"relay\":{\"host\":\"evil.example.com\"}}}"));
            assertForbidden(() -> agent.apps().deployments().inNamespace(ns).list());
        }
    }

    private static void assertForbidden(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(KubernetesClientException.class,
                e -> assertThat(e.getCode()).isEqualTo(403));
    }

    /** What the operator's informers hold of Secrets: its event sources' caches, as they are. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private List<Secret> cachedSecrets() {
        Controller<?> controller = (Controller<?>) operator.getRegisteredController(ReverseTunnelReconciler.NAME).orElseThrow();
        List<Secret> cached = new ArrayList<>();
        for (Object source : controller.getEventSourceManager().getEventSourcesFor(Secret.class)) {
            ((ManagedInformerEventSource) source).list(s -> true).forEach(s -> cached.add((Secret) s));
        }
        return cached;
    }

    @Test
    void tenThousandUnrelatedSecretsAreNotCachedAndNoCachedSecretHoldsAPrivateKey() throws Exception {
        String ns = namespace("crowd");
        ExecutorService creators = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> created = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                String name = "unrelated-" + i;
                created.add(creators.submit(() -> client.resource(new SecretBuilder().withNewMetadata().withName(name)
                        .withNamespace(ns).endMetadata().withStringData(Map.of("password", "x".repeat(100))).build())
                        .create()));
            }
            for (Future<?> f : created) {
                f.get();
            }
        } finally {
            creators.shutdownNow();
        }
        tunnel(ns, null, 4040, 22);
        await().atMost(PATIENCE).until(() -> cachedSecrets().stream()
                .anyMatch(s -> s.getMetadata().getNamespace().equals(ns)));

        List<Secret> cached = cachedSecrets();
        assertThat(cached).allSatisfy(s -> {
            assertThat(s.getMetadata().getLabels()).containsEntry(Labels.MANAGED_BY, Labels.OPERATOR);
            assertThat(s.getData().get(AgentKey.PRIVATE_KEY)).isEmpty();
        });
        assertThat(cached).filteredOn(s -> s.getMetadata().getNamespace().equals(ns))
                .extracting(s -> s.getMetadata().getName()).containsExactly("lab-key");
        // The agent gets the real key all the same.
        assertThat(client.secrets().inNamespace(ns).withName("lab-key").get().getData().get(AgentKey.PRIVATE_KEY))
                .isNotEmpty();
    }

    @Test
    void anAgentWithOnlyItsOwnRightsMakesTheTunnelReady() throws Exception {
        String ns = namespace("e2e");
        try (OpenSshRelay relay = OpenSshRelay.start(); EchoServer target = new EchoServer()) {
            int port = OpenSshRelay.freePort();
            tunnel(ns, relay, port, target.port());
            await().atMost(PATIENCE).until(() -> current(ns).getStatus() != null
                    && current(ns).getStatus().getAuthorizedKey() != null
                    && client.rbac().roleBindings().inNamespace(ns).withName("lab-agent").get() != null);
            relay.authorize(current(ns).getStatus().getAuthorizedKey());

            Secret key = client.secrets().inNamespace(ns).withName("lab-key").get();
            Path keyFile = Files.createTempFile("jumpgate-key", "");
            Files.write(keyFile, Base64.getDecoder().decode(key.getData().get("ssh-privatekey")));
            KubernetesApi asAgent = new KubernetesApi(RealApiServerResource.api().accessAs(
                    "system:serviceaccount:" + ns + ":lab-agent"));
            try (ClusterAgent agent = ClusterAgent.start(runtime, asAgent, new ClusterAgent.Settings(ns, "lab",
                            Names.agent("lab"), "lab-agent-pod", keyFile))) {
                await().atMost(PATIENCE).until(() -> ready(ns) != null && "True".equals(ready(ns).getStatus()));

                assertThat(ready(ns).getReason()).isEqualTo(Reasons.TUNNEL_READY);
                assertThat(current(ns).getStatus().getForwards().get(0).getRemotePort()).isEqualTo(port);
                assertThat(EchoClient.echoes(port, 10_000)).isTrue();
            } finally {
                Files.deleteIfExists(keyFile);
            }
        }
    }
}
