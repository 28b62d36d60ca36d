package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelStatus;
import dev.jumpgate.api.v1alpha1.SpecValidation;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.operator.dependent.AgentDeploymentDependent;
import dev.jumpgate.operator.dependent.AgentLeaseDependent;
import dev.jumpgate.operator.dependent.AgentNetworkPolicyDependent;
import dev.jumpgate.operator.dependent.AgentRoleBindingDependent;
import dev.jumpgate.operator.dependent.AgentRoleDependent;
import dev.jumpgate.operator.dependent.AgentServiceAccountDependent;
import dev.jumpgate.operator.dependent.KeySecretDependent;
import dev.jumpgate.operator.status.StatusAggregator;
import dev.jumpgate.operator.status.TunnelObservation;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ReportText;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Keeps each ReverseTunnel's agent and its objects in place (declared as dependents below) and writes the status,
 * the only writer of it: what the cluster shows folded with what the agent reports in its Lease.
 */
@ControllerConfiguration(name = ReverseTunnelReconciler.NAME, informer = @Informer(itemStore = InformerCaches.WithoutManagedFields.class))
@Workflow(dependents = {
        @Dependent(name = "key", type = KeySecretDependent.class, reconcilePrecondition = KeySecretDependent.Wanted.class),
        @Dependent(name = "service-account", type = AgentServiceAccountDependent.class),
        @Dependent(name = "role", type = AgentRoleDependent.class),
        @Dependent(name = "role-binding", type = AgentRoleBindingDependent.class, dependsOn = {"service-account", "role"}),
        @Dependent(name = "lease", type = AgentLeaseDependent.class),
        @Dependent(name = "network-policy", type = AgentNetworkPolicyDependent.class,
                reconcilePrecondition = AgentNetworkPolicyDependent.Enabled.class),
        @Dependent(name = "agent", type = AgentDeploymentDependent.class,
                reconcilePrecondition = AgentDeploymentDependent.CanRun.class, dependsOn = {"role-binding", "lease"})
})
public class ReverseTunnelReconciler implements Reconciler<ReverseTunnel> {

    public static final String NAME = "reversetunnel";
    private static final Duration KEY_RECHECK = Duration.ofSeconds(10);
    private static final Duration KEY_CREATED_RECHECK = Duration.ofSeconds(1);
    private static final Logger LOG = Logger.getLogger(ReverseTunnelReconciler.class);

    @Inject
    TunnelEvents events;

    Clock clock = Clock.systemUTC();

    @Override
    public UpdateControl<ReverseTunnel> reconcile(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        List<String> problems = SpecValidation.problems(tunnel.getSpec());
        AgentKey key = AgentKey.of(tunnel, context);
        TunnelObservation seen = new TunnelObservation(
                problems,
                key.problem(),
                key.publicKey(),
                context.getSecondaryResource(Deployment.class)
                        .map(d -> Instant.parse(d.getMetadata().getCreationTimestamp())).orElse(null),
                report(context),
                clock.instant());
        ReverseTunnelStatus status = StatusAggregator.aggregate(tunnel, seen);

        Duration recheck = recheck(key);
        if (status.equals(tunnel.getStatus())) {
            return UpdateControl.<ReverseTunnel>noUpdate().rescheduleAfter(recheck);
        }
        return UpdateControl.patchStatus(withStatus(tunnel, status)).rescheduleAfter(recheck);
    }

    /**
     * The tunnel to patch with a new status, its Event recorded. Without managedFields: the tunnel may come from
     * the SDK's cache of the last patch's answer, and a server-side apply must not carry them.
     */
    private ReverseTunnel withStatus(ReverseTunnel tunnel, ReverseTunnelStatus status) {
        events.onStatusChange(tunnel, tunnel.getStatus(), status);
        tunnel.setStatus(status);
        tunnel.getMetadata().setManagedFields(null);
        return tunnel;
    }

    /**
     * When to look again without an event. Agents report on change and heartbeat every AgentContract.HEARTBEAT:
     * looking after a missed beat or two tells a silent agent from a quiet one. A user's Secret is watched by no informer: look for
     * it sooner. A key Secret this very reconcile created brings no event (the SDK ignores its own writes), yet the
     * agent waits for it: look again at once.
     */
    private static Duration recheck(AgentKey key) {
        if (key.problem() != null) {
            return KEY_RECHECK;
        }
        return key.available() ? AgentContract.HEARTBEAT.multipliedBy(2) : KEY_CREATED_RECHECK;
    }

    /**
     * A failure of the reconcile itself (the API server refused an object: RBAC, quota, admission) is a condition
     * and an Event too, not only a log line; the SDK retries with backoff.
     */
    @Override
    public ErrorStatusUpdateControl<ReverseTunnel> updateErrorStatus(ReverseTunnel tunnel, Context<ReverseTunnel> context,
            Exception e) {
        ReverseTunnelStatus status = StatusAggregator.failed(tunnel, Reasons.RECONCILE_FAILED,
                "the operator could not apply the tunnel's objects: "
                        + ReportText.rootMessage(e, ReportText.MAX_RELAY_TEXT * 2), clock.instant());
        return ErrorStatusUpdateControl.patchStatus(withStatus(tunnel, status));
    }

    private static AgentReport report(Context<ReverseTunnel> context) {
        return context.getSecondaryResource(Lease.class)
                .map(lease -> lease.getMetadata().getAnnotations())
                .map(annotations -> annotations.get(AgentContract.REPORT_ANNOTATION))
                .map(json -> {
                    try {
                        return Serialization.unmarshal(json, AgentReport.class).sanitized();
                    } catch (RuntimeException e) {
                        LOG.warnf("unreadable agent report in Lease: %s", e.getMessage());
                        return null;
                    }
                })
                .orElse(null);
    }
}
