package dev.jumpgate.agent;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import java.io.IOException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Which of an agent's pods serves its tunnels when it runs several (spec.agent.replicas 2 or 3): the holder of the
 * agent's leader Lease, which the operator makes. The others stand by, ready, reading nothing but that Lease, and take
 * it over when the holder lets it go (it stops: SIGTERM, a rollout, a drain) or stops renewing it (killed, its node
 * lost): once they have seen its record unchanged for {@link #DURATION} on their own clock (as client-go's elector:
 * no two nodes' clocks compared).
 *
 * <p>A holder serves until it sees another pod holding the Lease. It does not stop when it cannot reach the API server:
 * a control plane that is away for a while must not take every tunnel down with it (an agent needs the API server only
 * to learn of changes). Should a standby take over meanwhile (the holder cut off from the API server alone), the
 * relay is the fence: it takes each listen from one session only, so the new holder's forwards are refused (and
 * retried) until the old session is gone. A holder stops its tunnels (forwards cancelled, the relay's listens freed)
 * before it releases the Lease, so that the next one binds at its first try.
 */
public final class AgentLeadership implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AgentLeadership.class);

    /** A Lease not renewed for this long (as a standby sees it) is taken over; a longer one in the record is not believed. */
    static final Duration DURATION = Duration.ofSeconds(4);
    /** How often the holder renews it. */
    static final Duration RENEW = Duration.ofSeconds(1);
    /** How often a standby looks at the Lease. */
    static final Duration RETRY = Duration.ofMillis(250);
    /**
     * A holder's record unchanged this long (a renewal missed) makes a standby ask the relay whether the holder still
     * holds its listens ({@link HolderProbe}): a dead process's are freed at once, and then it takes over without
     * waiting out {@link #DURATION}.
     */
    static final Duration SUSPECT = RENEW.plusMillis(500);
    /** A standby is ready while its last look at the Lease is this recent: it could take over. */
    static final Duration READY_WITHIN = Duration.ofSeconds(2);

    private final KubernetesApi api;
    private final String namespace;
    private final String lease;
    private final String identity;
    private final AgentRuntime runtime;
    private final Supplier<AutoCloseable> serve;
    private final BooleanSupplier holderGone;
    private final Thread loop;
    private final Object signal = new Object();
    private volatile boolean closed;
    /** The holder's record last seen (holder, renewal, transitions), and when it was first seen: a standby's clock. */
    private String seenRecord;
    private long seenAt;
    /** Whether the last look found another pod holding the Lease. */
    private boolean heldByAnother;

    private AgentLeadership(KubernetesApi api, String namespace, String lease, String identity, AgentRuntime runtime,
            Supplier<AutoCloseable> serve, BooleanSupplier holderGone) {
        this.api = api;
        this.namespace = namespace;
        this.lease = lease;
        this.identity = identity;
        this.runtime = runtime;
        this.serve = serve;
        this.holderGone = holderGone;
        this.loop = SshThreads.start("jumpgate-leadership", this::run);
    }

    /**
     * Stands by until this pod ({@code identity}) holds the Lease, then serves ({@code serve} starts the tunnels, its
     * close stops them) while it holds it; stands by again if it loses it. {@code warmUp} runs once meanwhile, beside
     * the election: what makes a takeover quicker in a process that has not served yet. {@code holderGone} is asked
     * when the holder missed a renewal: true takes over at once (the relay has let the holder's listens go).
     */
    public static AgentLeadership start(KubernetesApi api, String namespace, String lease, String identity,
            AgentRuntime runtime, Supplier<AutoCloseable> serve, Runnable warmUp, BooleanSupplier holderGone) {
        LOG.infof("standing by for Lease %s/%s as %s", namespace, lease, identity);
        runtime.standBy(true);
        runtime.markStarted();
        SshThreads.start("jumpgate-warm-up", warmUp);
        return new AgentLeadership(api, namespace, lease, identity, runtime, serve, holderGone);
    }

    private void run() {
        while (!closed) {
            if (!holdsAfterTry()) {
                pause(RETRY);
                continue;
            }
            if (closed) {
                release(); // taken as this pod was told to stop: given back at once
                return;
            }
            LOG.infof("holding Lease %s: serving the tunnels", lease);
            runtime.standBy(false);
            AutoCloseable serving = serve.get();
            while (!closed && (holdsAfterTry() || !heldByAnother)) {
                pause(RENEW);
            }
            stop(serving);
            if (closed) {
                release();
            } else {
                LOG.warnf("Lease %s is held by another pod now: the tunnels stopped here, standing by", lease);
                runtime.standBy(true);
            }
        }
    }

    /** One look at the Lease: takes it when free or expired, renews it when this pod's; whether this pod holds it. */
    private boolean holdsAfterTry() {
        heldByAnother = false;
        try {
            Lease current = api.lease(namespace, lease);
            long now = System.nanoTime();
            runtime.sawLeaderLease(now);
            if (current == null) {
                return false; // the operator makes it with the pods (again at its refresh, if deleted)
            }
            LeaseSpec spec = current.getSpec() == null ? new LeaseSpec() : current.getSpec();
            String holder = spec.getHolderIdentity();
            // The holder's own record, not the object's version: a write of its labels renews nobody.
            String record = holder + "|" + spec.getRenewTime() + "|" + spec.getLeaseTransitions();
            if (!record.equals(seenRecord)) {
                seenRecord = record;
                seenAt = now;
            }
            boolean mine = identity.equals(holder);
            boolean free = holder == null || holder.isEmpty();
            long duration = Math.min(DURATION.toNanos(), spec.getLeaseDurationSeconds() == null ? DURATION.toNanos()
                    : Duration.ofSeconds(Math.max(0, spec.getLeaseDurationSeconds())).toNanos());
            if (!mine && !free && now - seenAt < duration) {
                if (now - seenAt < SUSPECT.toNanos() || !holderGone.getAsBoolean()) {
                    heldByAnother = true;
                    return false;
                }
                LOG.infof("%s missed its renewal of Lease %s and the relay let its listen go: taking over", holder, lease);
            }
            ZonedDateTime wall = ZonedDateTime.now(ZoneOffset.UTC);
            boolean inherits = !mine && !free;
            if (!mine) {
                spec.setHolderIdentity(identity);
                spec.setAcquireTime(wall);
                spec.setLeaseTransitions(spec.getLeaseTransitions() == null ? 1 : spec.getLeaseTransitions() + 1);
            }
            spec.setRenewTime(wall);
            spec.setLeaseDurationSeconds((int) DURATION.toSeconds());
            current.setSpec(spec);
            if (!api.replaceLease(namespace, current)) {
                return false; // written by another in between: look again
            }
            if (inherits) {
                runtime.inheritListens(); // taken from a holder that did not let go: the relay may still hold its listens
            }
            return true;
        } catch (IOException e) {
            LOG.debugf("Lease %s: %s", lease, e.getMessage());
            return false;
        }
    }

    /** Gives the Lease up for a standby to take at once: only if this pod still holds it. */
    private void release() {
        try {
            Lease current = api.lease(namespace, lease);
            if (current != null && current.getSpec() != null && identity.equals(current.getSpec().getHolderIdentity())) {
                current.getSpec().setHolderIdentity(null);
                current.getSpec().setLeaseDurationSeconds(1);
                if (api.replaceLease(namespace, current)) {
                    LOG.infof("released Lease %s", lease);
                }
            }
        } catch (IOException e) {
            LOG.warnf("could not release Lease %s (%s): a standby takes it when it expires", lease, e.getMessage());
        }
    }

    private static void stop(AutoCloseable serving) {
        try {
            serving.close();
        } catch (Exception e) {
            LOG.warnf("stopping the tunnels: %s", e.getMessage());
        }
    }

    private void pause(Duration duration) {
        synchronized (signal) {
            if (closed) {
                return;
            }
            try {
                signal.wait(duration.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closed = true;
            }
        }
    }

    /** Stops serving (the tunnels' forwards cancelled), then releases the Lease. */
    @Override
    public void close() {
        synchronized (signal) {
            closed = true;
            signal.notifyAll();
        }
        try {
            loop.join(15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
