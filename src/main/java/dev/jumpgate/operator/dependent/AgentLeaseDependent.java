package dev.jumpgate.operator.dependent;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.operator.InformerCaches;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.BooleanWithUndefined;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;

/**
 * The agent's report channel: the operator creates it empty, the agent writes its report into it, the operator
 * watches it. Created, never updated, so the operator never overwrites what the agent wrote.
 */
@KubernetesDependent(useSSA = BooleanWithUndefined.FALSE, // created, never updated: a plain create is cheaper for the API server
        informer = @Informer(labelSelector = Labels.REPORT_LEASES_SELECTOR, itemStore = InformerCaches.WithoutManagedFields.class))
public class AgentLeaseDependent extends KubernetesDependentResource<Lease, ReverseTunnel>
        implements Creator<Lease, ReverseTunnel>, GarbageCollected<ReverseTunnel> {

    public AgentLeaseDependent() {
        super(Lease.class);
    }

    @Override
    protected Lease desired(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        return new LeaseBuilder()
                .withMetadata(Labels.metadata(tunnel, Names.agent(tunnel)))
                .withNewSpec()
                .endSpec()
                .build();
    }
}
