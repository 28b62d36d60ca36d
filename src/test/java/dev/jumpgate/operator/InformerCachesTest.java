package dev.jumpgate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InformerCachesTest {

    private static ManagedFieldsEntry entry(String manager, String operation) {
        return new ManagedFieldsEntryBuilder().withManager(manager).withOperation(operation)
                .withNewFieldsV1().addToAdditionalProperties("f:spec", Map.of("f:replicas", Map.of())).endFieldsV1().build();
    }

    @Test
    void anOwnedObjectKeepsTheServerSideApplyEntriesTheMatcherReadsAndNothingElse() {
        ManagedFieldsEntry ours = entry("reversetunnel", "Apply");
        Deployment agent = new DeploymentBuilder().withMetadata(new ObjectMetaBuilder()
                .withName("lab-agent").withNamespace("lab").withResourceVersion("7")
                .withManagedFields(ours, entry("kube-controller-manager", "Update"), entry("kubectl-edit", "Update"))
                .build()).build();

        InformerCaches.Owned<Deployment> store = new InformerCaches.Owned<>();
        store.put(store.getKey(agent), agent);

        Deployment stored = store.get("lab/lab-agent");
        assertThat(stored.getMetadata().getManagedFields()).containsExactly(ours);
        assertThat(stored.getMetadata().getResourceVersion()).isEqualTo("7");
    }

    @Test
    void aTunnelIsCachedWithoutManagedFields() {
        ReverseTunnel tunnel = new ReverseTunnel();
        tunnel.setMetadata(new ObjectMetaBuilder().withName("lab").withNamespace("lab").withResourceVersion("3")
                .withManagedFields(entry("kubectl", "Apply"), entry("reversetunnel", "Apply")).build());

        InformerCaches.Tunnels store = new InformerCaches.Tunnels();
        store.put(store.getKey(tunnel), tunnel);

        ReverseTunnel stored = store.get("lab/lab");
        assertThat(stored.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(stored.getMetadata().getName()).isEqualTo("lab");
        assertThat(stored.getMetadata().getResourceVersion()).isEqualTo("3");
    }

    @Test
    void anObjectWithOnlyApplyEntriesIsLeftAsItIs() {
        List<ManagedFieldsEntry> entries = List.of(entry("reversetunnel", "Apply"));
        Deployment agent = new DeploymentBuilder().withMetadata(new ObjectMetaBuilder()
                .withName("lab-agent").withNamespace("lab").withManagedFields(entries).build()).build();

        assertThat(InformerCaches.applyEntriesOnly(agent).getMetadata().getManagedFields()).isEqualTo(entries);
    }
}
