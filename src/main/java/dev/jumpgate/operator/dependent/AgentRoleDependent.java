package dev.jumpgate.operator.dependent;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.operator.InformerCaches;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * What the agent may do: read its own ReverseTunnel (its spec, and the host key pinned in its status) and write its
 * own Lease. Nothing else: its key comes as a mounted Secret volume, so it needs no rights on Secrets.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR, itemStore = InformerCaches.WithoutManagedFields.class))
public class AgentRoleDependent extends KeptDependent<Role> {

    public AgentRoleDependent() {
        super(Role.class);
    }

    @Override
    protected Role desired(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        return new RoleBuilder()
                .withMetadata(Labels.metadata(tunnel, Names.agent(tunnel)))
                .withRules(
                        new PolicyRuleBuilder()
                                .withApiGroups(ReverseTunnel.GROUP)
                                .withResources("reversetunnels")
                                .withResourceNames(tunnel.getMetadata().getName())
                                .withVerbs("get", "list", "watch")
                                .build(),
                        new PolicyRuleBuilder()
                                .withApiGroups("coordination.k8s.io")
                                .withResources("leases")
                                .withResourceNames(Names.agent(tunnel))
                                .withVerbs("get", "update", "patch")
                                .build())
                .build();
    }
}
