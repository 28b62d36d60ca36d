package dev.jumpgate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InformerCachesTest {

    private static ManagedFieldsEntry entry(String manager, String operation) {
        return new ManagedFieldsEntryBuilder().withManager(manager).withOperation(operation)
                .withNewFieldsV1().addToAdditionalProperties("f:spec", Map.of("f:replicas", Map.of())).endFieldsV1()
                .build();
    }

    @Test
    void anObjectIsCachedWithoutManagedFieldsAndOtherwiseAsItCame() {
        Deployment agent = new DeploymentBuilder()
                .withMetadata(new ObjectMetaBuilder().withName("lab-agent").withNamespace("lab").withResourceVersion("7")
                        .withLabels(Map.of(Labels.MANAGED_BY, Labels.OPERATOR))
                        .withManagedFields(entry("reversetunnel", "Apply"), entry("kube-controller-manager", "Update"))
                        .build())
                .withNewSpec().withReplicas(1).endSpec()
                .build();

        InformerCaches.WithoutManagedFields<Deployment> store = new InformerCaches.WithoutManagedFields<>();
        store.put(store.getKey(agent), agent);

        Deployment cached = store.get("lab/lab-agent");
        assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("7");
        assertThat(cached.getMetadata().getLabels()).containsEntry(Labels.MANAGED_BY, Labels.OPERATOR);
        assertThat(cached.getSpec().getReplicas()).isEqualTo(1);
    }

    /** What the API server sends, as a fresh deserialization makes it: every string its own copy. */
    private static ReverseTunnel tunnelAsSent(String name) {
        return Serialization.unmarshal("""
                {"apiVersion": "jumpgate.dev/v1alpha1", "kind": "ReverseTunnel",
                 "metadata": {"name": "%s", "namespace": "lab", "uid": "uid-%s", "resourceVersion": "1"},
                 "spec": {"relay": {"host": "relay.example.com", "user": "tunnel",
                                    "hostKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN"]},
                          "forwards": [{"name": "ssh", "remote": {"port": 4040}, "target": {"host": "10.8.92.10", "port": 22}}]},
                 "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "AgentStarting",
                                            "message": "handing the tunnel to its agent"}]}}
                """.formatted(name, name), ReverseTunnel.class);
    }

    @Test
    void whatCachedObjectsSayAlikeIsKeptOnceAndUnchanged() {
        InformerCaches.WithoutManagedFields<ReverseTunnel> tunnels = new InformerCaches.WithoutManagedFields<>();
        ReverseTunnel a = tunnelAsSent("a");
        ReverseTunnel b = tunnelAsSent("b");
        assertThat(a.getSpec().getRelay().getHostKeys().get(0)).isNotSameAs(b.getSpec().getRelay().getHostKeys().get(0));
        tunnels.put(tunnels.getKey(a), a);
        tunnels.put(tunnels.getKey(b), b);
        ReverseTunnel cachedA = tunnels.get("lab/a");
        ReverseTunnel cachedB = tunnels.get("lab/b");

        assertThat(cachedA.getSpec().getRelay().getHostKeys().get(0))
                .isSameAs(cachedB.getSpec().getRelay().getHostKeys().get(0))
                .isEqualTo("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN");
        assertThat(cachedA.getSpec().getForwards().get(0).getTarget().getHost())
                .isSameAs(cachedB.getSpec().getForwards().get(0).getTarget().getHost());
        assertThat(cachedA.getStatus().getConditions().get(0).getMessage())
                .isSameAs(cachedB.getStatus().getConditions().get(0).getMessage());
        assertThat(Serialization.asJson(cachedA)).isEqualTo(Serialization.asJson(tunnelAsSent("a")));

        // A tunnel's uid, in its key Secret's owner reference, is the tunnel's own copy.
        InformerCaches.KeySecretsWithoutPrivateKey keys = new InformerCaches.KeySecretsWithoutPrivateKey();
        Secret key = new SecretBuilder().withNewMetadata().withName("a-key").withNamespace("lab")
                .addNewOwnerReference().withUid(new String("uid-a".toCharArray())).withName("a").endOwnerReference()
                .endMetadata().withData(Map.of(AgentKey.PUBLIC_KEY, "c3No")).build();
        keys.put(keys.getKey(key), key);
        assertThat(keys.get("lab/a-key").getMetadata().getOwnerReferences().get(0).getUid())
                .isSameAs(cachedA.getMetadata().getUid());
    }
}
