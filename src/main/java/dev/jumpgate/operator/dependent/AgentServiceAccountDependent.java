package dev.jumpgate.operator.dependent;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.operator.InformerCaches;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/** The agent's identity towards the API server; its Role says what it may do. */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR, itemStore = InformerCaches.WithoutManagedFields.class))
public class AgentServiceAccountDependent extends KeptDependent<ServiceAccount> {

    public AgentServiceAccountDependent() {
        super(ServiceAccount.class);
    }

    @Override
    protected ServiceAccount desired(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        return new ServiceAccountBuilder()
                .withMetadata(Labels.metadata(tunnel, Names.agent(tunnel)))
                .build();
    }
}
