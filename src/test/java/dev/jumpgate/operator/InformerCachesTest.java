package dev.jumpgate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
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
}
