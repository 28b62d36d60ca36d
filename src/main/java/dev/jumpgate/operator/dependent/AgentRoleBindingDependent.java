package dev.jumpgate.operator.dependent;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.operator.InformerCaches;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/** Grants the agent's ServiceAccount its Role. */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR, itemStore = InformerCaches.WithoutManagedFields.class))
public class AgentRoleBindingDependent extends KeptDependent<RoleBinding> {

    public AgentRoleBindingDependent() {
        super(RoleBinding.class);
    }

    @Override
    protected RoleBinding desired(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        String name = Names.agent(tunnel);
        return new RoleBindingBuilder()
                .withMetadata(Labels.metadata(tunnel, name))
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", name)
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(name)
                .withNamespace(tunnel.getMetadata().getNamespace())
                .endSubject()
                .build();
    }
}
