package dev.jumpgate.apiserver;

import static dev.jumpgate.testing.InvalidTunnels.FORWARD;
import static dev.jumpgate.testing.InvalidTunnels.KEY;
import static dev.jumpgate.testing.InvalidTunnels.RELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.contract.PoolConfig;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.TunnelCondition;
import dev.jumpgate.operator.status.StatusAggregator;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.testing.HostCommand;
import dev.jumpgate.testing.InvalidTunnels;
import dev.jumpgate.testing.RealApiServerResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.InputStream;
import java.net.URL;
import java.net.HttpURLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 3: a corpus of invalid and hostile ReverseTunnels, written as a user (or an attacker with create rights in a
 * namespace) would write them, applied to a real kube-apiserver with the operator running. Each is rejected by the
 * schema with the field named, or accepted and shown as a condition with a reason and a message; the operator stays
 * up and a well-formed tunnel beside them is not disturbed.
 */
@Tag("apiserver")
@QuarkusTest
@TestProfile(RealApiServerResource.Profile.class)
class HostileTunnelsOnRealApiServerTest {

    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final String NS = "hostile";

    @Inject
    KubernetesClient client;

    @Inject
    Operator operator;

    @TestHTTPResource("/q/health/ready")
    URL ready;

    /** Accepted by the schema: the operator's status says what is wrong. */
    private record Shown(String name, String relay, String forwards, String extra, String reason) {
    }

    private List<Shown> shown() {
        String ed25519Blob = KEY.split(" ")[1];
        return List.of(
                new Shown("host-key-short-blob", "{host: relay, user: tunnel, hostKeys: [\"ssh-ed25519 AAAA\"]}", FORWARD, "",
                        Reasons.SPEC_INVALID),
                new Shown("host-key-wrong-type", "{host: relay, user: tunnel, hostKeys: [\"ssh-rsa " + ed25519Blob + "\"]}",
                        FORWARD, "", Reasons.SPEC_INVALID),
                new Shown("secret-missing", RELAY, FORWARD, "  auth: {secretRef: {name: nowhere}}\n", Reasons.SECRET_MISSING),
                new Shown("secret-wrong-type", RELAY, FORWARD, "  auth: {secretRef: {name: registry}}\n", Reasons.SECRET_MISSING),
                new Shown("secret-not-a-key", RELAY, FORWARD, "  auth: {secretRef: {name: not-a-key}}\n", Reasons.KEY_INVALID),
                new Shown("secret-passphrase", RELAY, FORWARD, "  auth: {secretRef: {name: passphrase}}\n", Reasons.KEY_INVALID),
                // Another tenant's doors: the bystander's generated key, and the pool's list of members.
                new Shown("borrowed-key", RELAY, FORWARD, "  auth: {secretRef: {name: bystander-key}}\n", Reasons.KEY_INVALID),
                new Shown("pool-list-as-key", RELAY, FORWARD, "  auth: {secretRef: {name: default-pool}}\n",
                        Reasons.KEY_INVALID));
    }

    private void apply(String name, String relay, String forwards, String extra) {
        // Sent as written, like kubectl apply: the Java types would have refused some of it already.
        client.resource(Serialization.unmarshal(InvalidTunnels.yaml(name, NS, relay, forwards, extra),
                GenericKubernetesResource.class)).create();
    }

    private ReverseTunnel tunnel(String name) {
        return client.resources(ReverseTunnel.class).inNamespace(NS).withName(name).get();
    }

    private TunnelCondition readyOf(String name) {
        ReverseTunnel tunnel = tunnel(name);
        return tunnel == null ? null : StatusAggregator.readyCondition(tunnel.getStatus());
    }

    /** The tunnel's entry in the default pool's list, or null when the pool does not serve it. */
    private PoolConfig.Member member(String name) {
        Secret pool = client.secrets().inNamespace(NS).withName("default-pool").get();
        if (pool == null) {
            return null;
        }
        String json = new String(java.util.Base64.getDecoder().decode(pool.getData().get(AgentContract.POOL_CONFIG_KEY)),
                java.nio.charset.StandardCharsets.UTF_8);
        return Serialization.unmarshal(json, PoolConfig.class).members()
                .stream().filter(m -> m.tunnel().equals(name)).findFirst().orElse(null);
    }

    private void secrets() throws Exception {
        client.resource(new SecretBuilder().withNewMetadata().withName("registry").withNamespace(NS).endMetadata()
                .withType("kubernetes.io/dockerconfigjson")
                .withStringData(Map.of(".dockerconfigjson", "{\"auths\":{}}")).build()).create();
        client.resource(new SecretBuilder().withNewMetadata().withName("not-a-key").withNamespace(NS).endMetadata()
                .withStringData(Map.of("ssh-privatekey", "-----BEGIN OPENSSH PRIVATE KEY-----\nhello\n")).build()).create();
        Path dir = Files.createTempDirectory("jumpgate-keys");
        HostCommand.SSH_KEYGEN.run(Duration.ofSeconds(30), "-q", "-t", "ed25519", "-N", "a passphrase", "-f",
                dir.resolve("id").toString()).orThrow();
        client.resource(new SecretBuilder().withNewMetadata().withName("passphrase").withNamespace(NS).endMetadata()
                .withStringData(Map.of("ssh-privatekey", Files.readString(dir.resolve("id")))).build()).create();
    }

    @Test
    void everyHostileTunnelIsRefusedOrShownAndNothingElseIsDisturbed() throws Exception {
        operator.start();
        client.resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).serverSideApply();
        secrets();
        apply("bystander", RELAY, FORWARD, "");
        await().atMost(PATIENCE).until(() -> readyOf("bystander") != null
                && Reasons.AGENT_STARTING.equals(readyOf("bystander").getReason())
                && client.apps().deployments().inNamespace(NS).withName("default-pool").get() != null);
        long poolPod = client.apps().deployments().inNamespace(NS).withName("default-pool").get().getMetadata()
                .getGeneration();
        PoolConfig.Member bystander = member("bystander");
        assertThat(bystander).isNotNull();

        Map<String, String> refusals = new LinkedHashMap<>();
        for (InvalidTunnels.Rejected c : InvalidTunnels.rejected()) {
            try {
                apply(c.name(), c.relay(), c.forwards(), c.extra());
                refusals.put(c.name(), "ACCEPTED");
            } catch (KubernetesClientException e) {
                refusals.put(c.name(), e.getCode() + " " + e.getMessage());
            }
        }
        assertThat(refusals).allSatisfy((name, answer) -> assertThat(answer).startsWith("422 ")
                .contains(InvalidTunnels.rejected().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow().says()));

        List<Shown> shown = shown();
        for (Shown c : shown) {
            apply(c.name(), c.relay(), c.forwards(), c.extra());
        }
        String atTheLimit = "b".repeat(ReverseTunnel.MAX_NAME_LENGTH);
        apply(atTheLimit, RELAY, FORWARD, "");

        for (Shown c : shown) {
            await().atMost(PATIENCE).until(() -> readyOf(c.name()) != null && c.reason().equals(readyOf(c.name()).getReason()));
            assertThat(readyOf(c.name()).getStatus()).isEqualTo("False");
            assertThat(readyOf(c.name()).getMessage()).isNotBlank().doesNotContain("hello"); // never the Secret's content
            assertThat(member(c.name())).as("no agent serves %s", c.name()).isNull();
        }
        // A pooled tunnel at the longest name joins the pool; a dedicated one gets an agent whose label is bounded.
        await().atMost(PATIENCE).until(() -> member(atTheLimit) != null && readyOf(atTheLimit) != null);
        String ownPod = atTheLimit.substring(0, 62) + "d";
        apply(ownPod, RELAY, FORWARD, "  agent: {dedicated: true}\n");
        await().atMost(PATIENCE).until(() -> client.apps().deployments().inNamespace(NS).withName(ownPod + "-agent")
                .get() != null);
        assertThat(client.apps().deployments().inNamespace(NS).withName(ownPod + "-agent").get().getSpec()
                .getTemplate().getMetadata().getLabels().values()).allSatisfy(v -> assertThat(v).hasSizeLessThanOrEqualTo(63));

        // Nothing else disturbed: the well-formed tunnel's agent was not touched, and the operator still serves it.
        assertThat(client.apps().deployments().inNamespace(NS).withName("default-pool").get().getMetadata()
                .getGeneration()).as("the pool's pod was not restarted").isEqualTo(poolPod);
        assertThat(member("bystander")).as("the bystander's entry is untouched").isEqualTo(bystander);
        client.resources(ReverseTunnel.class).inNamespace(NS).withName("bystander")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"keepalive\":{\"intervalSeconds\":20}}}");
        await().atMost(PATIENCE).until(() -> tunnel("bystander").getStatus().getObservedGeneration() == 2L);
        HttpURLConnection health = (HttpURLConnection) ready.openConnection();
        try (InputStream body = health.getInputStream()) {
            assertThat(health.getResponseCode()).isEqualTo(200);
            assertThat(new String(body.readAllBytes())).contains("\"UP\"");
        }
        List<String> accepted = new ArrayList<>(shown.stream().map(Shown::name).toList());
        accepted.addAll(List.of("bystander", atTheLimit, atTheLimit.substring(0, 62) + "d"));
        assertThat(client.resources(ReverseTunnel.class).inNamespace(NS).list().getItems())
                .extracting(t -> t.getMetadata().getName()).containsExactlyInAnyOrderElementsOf(accepted);
        assertThat(InvalidTunnels.rejected().size() + shown.size() + 1).isGreaterThanOrEqualTo(50);
    }
}
