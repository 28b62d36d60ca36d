package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.AgentStatus;
import dev.jumpgate.contract.PoolConfig.Member;
import dev.jumpgate.operator.pool.AgentPools;
import dev.jumpgate.operator.status.TunnelObservation.HandOverProblem;
import java.util.Optional;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelStatus;
import dev.jumpgate.api.v1alpha1.SpecValidation;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.operator.dependent.AgentLeaseDependent;
import dev.jumpgate.operator.dependent.KeySecretDependent;
import dev.jumpgate.operator.status.StatusAggregator;
import dev.jumpgate.operator.status.StatusPatch;
import dev.jumpgate.operator.status.TunnelObservation;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ReportText;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.utils.Serialization;
import com.fasterxml.jackson.databind.node.POJONode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
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
 * Keeps each ReverseTunnel's own objects in place (its key and Lease, declared as dependents below), hands it to
 * its agent ({@link AgentPools}: its pool's, or its own) and writes the status, the only writer of it: what the
 * cluster shows folded with what the agent reports in its Lease. No finalizer: a deleted tunnel's key and Lease go
 * with it (owner references), and its agent drops it from its list when the tunnel is gone from the operator's
 * cache; nothing holds a deletion back when the operator is away.
 */
@ControllerConfiguration(name = ReverseTunnelReconciler.NAME, informer = @Informer(itemStore = InformerCaches.WithoutManagedFields.class))
@Workflow(dependents = {
        @Dependent(name = "key", type = KeySecretDependent.class, reconcilePrecondition = KeySecretDependent.Wanted.class),
        @Dependent(name = "lease", type = AgentLeaseDependent.class)
})
public class ReverseTunnelReconciler implements Reconciler<ReverseTunnel> {

    public static final String NAME = "reversetunnel";
    private static final Duration KEY_RECHECK = Duration.ofSeconds(10);
    private static final Duration KEY_CREATED_RECHECK = Duration.ofSeconds(1);
    /** A status refused for a newer version of the tunnel is made again this soon (a label's edit brings no event). */
    private static final Duration STATUS_CONFLICT_RECHECK = Duration.ofSeconds(1);
    private static final Logger LOG = Logger.getLogger(ReverseTunnelReconciler.class);
    /** The finalizer the SDK put on tunnels while this reconciler was a Cleaner (2026-12-01 to 2026-12-02). */
    static final String LEGACY_FINALIZER = "reversetunnels.jumpgate.dev/finalizer";

    @Inject
    TunnelEvents events;

    @Inject
    AgentPools pools;

    @Inject
    UserCertificates certificates;

    Clock clock = Clock.systemUTC();

    @Override
    public UpdateControl<ReverseTunnel> reconcile(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        dropLegacyFinalizer(tunnel, context);
        List<String> problems = SpecValidation.problems(tunnel.getSpec());
        AgentKey key = certificates.refuseAuthorityKey(tunnel, AgentKey.of(tunnel, context));
        if (problems.isEmpty()) {
            key = certificates.certify(tunnel, key, context, clock.instant());
        }
        ProxyCredentialsSecret proxy = problems.isEmpty() ? ProxyCredentialsSecret.of(tunnel, context)
                : ProxyCredentialsSecret.NONE;
        Optional<Lease> lease = context.getSecondaryResource(Lease.class);
        TunnelObservation seen = new TunnelObservation(
                problems,
                key.problem() != null ? key.problem() : proxy.problem(),
                key.publicKey(),
                lease.map(l -> Instant.parse(l.getMetadata().getCreationTimestamp())).orElse(null),
                report(lease),
                clock.instant(),
                certificates.status(tunnel, key));
        ReverseTunnelStatus status = StatusAggregator.aggregate(tunnel, seen);
        boolean serve = problems.isEmpty() && key.available() && proxy.problem() == null;
        HandOverProblem refused = handToAgent(tunnel, serve ? key : null, proxy, status, context);
        if (refused != null) {
            serve = false;
            status = StatusAggregator.aggregate(tunnel, seen.with(refused));
        }
        status.setAgent(new AgentStatus(tunnel.getSpec().placement().dedicated() ? null
                : tunnel.getSpec().placement().poolName(), Names.agentOf(tunnel), serve ? key.version() : null));

        Duration recheck = proxy.problem() != null ? KEY_RECHECK : recheck(key);
        Duration renewal = serve ? certificates.untilRenewal(tunnel, key, clock.instant()) : null;
        if (renewal != null && renewal.compareTo(recheck) < 0) {
            recheck = renewal.plusSeconds(1);
        }
        if (!writeStatus(tunnel, status, context)) {
            recheck = STATUS_CONFLICT_RECHECK; // an edit that changed no generation brings no reconcile of its own
        }
        return UpdateControl.<ReverseTunnel>noUpdate().rescheduleAfter(recheck);
    }

    /**
     * Puts the tunnel into its agent's list ({@code usableKey} given: a valid spec and a usable key) or takes it out,
     * and out of the agent it had before a move; why the agent's list would not take it, or null.
     */
    private HandOverProblem handToAgent(ReverseTunnel tunnel, AgentKey usableKey, ProxyCredentialsSecret proxy,
            ReverseTunnelStatus status, Context<ReverseTunnel> context) {
        Member entry = usableKey == null ? null : new Member(tunnel.getMetadata().getName(), tunnel.generation(),
                // The spec as its JSON text, not a tree: the operator holds every member's entry, and a tree of
                // maps costs some 4 KiB a tunnel more. Written into the list as it is; equal when the text is.
                new POJONode(new RawValue(Serialization.asJson(tunnel.getSpec()))),
                status.getRelay() == null ? null : status.getRelay().getAcceptedHostKey(), Names.agent(tunnel),
                usableKey.secretName(), usableKey.dataKey(), usableKey.version(), usableKey.certificateKey(),
                proxy.name(), proxy.version());
        return pools.place(tunnel, entry, context.getPrimaryCache());
    }

    /**
     * Tunnels made by versions that had a finalizer carry it still: with nobody to remove it any more, their deletion
     * would hang. Removed with a JSON patch that tests its place first, so nobody else's finalizer goes.
     */
    private static void dropLegacyFinalizer(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        List<String> finalizers = tunnel.getMetadata().getFinalizers();
        int at = finalizers == null ? -1 : finalizers.indexOf(LEGACY_FINALIZER);
        if (at >= 0) {
            ReverseTunnel patched = context.getClient().resource(tunnel).patch(PatchContext.of(PatchType.JSON),
                    "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/" + at + "\",\"value\":\"" + LEGACY_FINALIZER
                    + "\"},{\"op\":\"remove\",\"path\":\"/metadata/finalizers/" + at + "\"}]");
            // The status below is patched on this version: the one this reconcile made.
            tunnel.getMetadata().setResourceVersion(patched.getMetadata().getResourceVersion());
            tunnel.getMetadata().setFinalizers(patched.getMetadata().getFinalizers());
        }
    }

    /**
     * Writes the status when it changed ({@link StatusPatch}), and its Event once it is written; false when the tunnel
     * changed since it was read and nothing was written.
     */
    private boolean writeStatus(ReverseTunnel tunnel, ReverseTunnelStatus status, Context<ReverseTunnel> context) {
        ReverseTunnelStatus before = tunnel.getStatus();
        if (status.equals(before)) {
            return true;
        }
        if (!StatusPatch.write(tunnel, status, context)) {
            return false;
        }
        events.onStatusChange(tunnel, before, status);
        return true;
    }

    /**
     * When to look again without an event. Agents report on change and heartbeat every AgentContract.HEARTBEAT:
     * looking after a missed beat or two tells a silent agent from a quiet one. A user's Secret is watched by no
     * informer: look for it sooner. A generated key Secret not found at all (neither cached nor created by this
     * reconcile: another writer's conflict) brings no event of its own: look again at once.
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
        status.setAgent(tunnel.getStatus() == null ? null : tunnel.getStatus().getAgent());
        writeStatus(tunnel, status, context);
        return ErrorStatusUpdateControl.noStatusUpdate();
    }

    private static AgentReport report(Optional<Lease> lease) {
        return lease
                .map(l -> l.getMetadata().getAnnotations())
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
