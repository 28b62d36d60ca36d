package dev.jumpgate.agent;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import java.io.IOException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Objects;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Which of an agent's pods serves its tunnels when there are several (spec.agent.replicas): the holder of the agent's
 * leader Lease, which the operator makes. The others stand by, ready, reading nothing but that Lease, and take it
 * over when the holder lets it go (it stops: SIGTERM, a rollout, a drain) or stops renewing it (killed, its node
 * lost). Two pods never serve at once: a holder that cannot renew for {@link #GIVE_UP} stops serving, and a standby
 * takes an unreleased Lease only after it has seen no renewal for {@link #DURATION}, longer, on its own clock (as
 * client-go's elector does: no two nodes' clocks compared). The relay, which takes each listen from one session only,
 * would refuse a second agent's forwards in any case.
 *
 * <p>A holder stops its tunnels (their forwards cancelled, the relay's listens freed) before it releases the Lease,
 * so that the next one binds at its first try.
 */
public final class AgentLeadership implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AgentLeadership.class);

    /** A Lease not renewed for this long (as a standby sees it) is taken over. */
    static final Duration DURATION = Duration.ofSeconds(4);
    /** How often the holder renews it. */
    static final Duration RENEW = Duration.ofSeconds(1);
    /** A holder whose renewals have failed for this long stops serving: before any standby may take over. */
    static final Duration GIVE_UP = Duration.ofSeconds(3);
    /** How often a standby looks at the Lease. */
    static final Duration RETRY = Duration.ofMillis(250);

    private final KubernetesApi api;
    private final String namespace;
    private final String lease;
    private final String identity;
    private final AgentRuntime runtime;
    private final Supplier<AutoCloseable> serve;
    private final Thread loop;
    private final Object signal = new Object();
    private volatile boolean closed;
    /** The version of the Lease last seen, and when (System.nanoTime) it was first seen: a standby's clock. */
    private String seenVersion;
    private long seenAt;
    /** When this pod last wrote the Lease as its holder. */
    private long renewedAt;
    /** Whether the last look found another pod holding the Lease, renewed within its duration. */
    private boolean heldByAnother;

    private AgentLeadership(KubernetesApi api, String namespace, String lease, String identity, AgentRuntime runtime,
            Supplier<AutoCloseable> serve) {
        this.api = api;
        this.namespace = namespace;
        this.lease = lease;
        this.identity = identity;
        this.runtime = runtime;
        this.serve = serve;
        this.loop = SshThreads.start("jumpgate-leadership", this::run);
    }

    /**
     * Stands by until this pod ({@code identity}) holds the Lease, then serves ({@code serve} starts the tunnels, its
     * close stops them) while it holds it; stands by again if it loses it.
     */
    public static AgentLeadership start(KubernetesApi api, String namespace, String lease, String identity,
            AgentRuntime runtime, Supplier<AutoCloseable> serve) {
        LOG.infof("standing by for Lease %s/%s as %s", namespace, lease, identity);
        runtime.standBy(true);
        runtime.markStarted();
        return new AgentLeadership(api, namespace, lease, identity, runtime, serve);
    }

    private void run() {
        while (!closed) {
            if (!holdsAfterTry()) {
                pause(RETRY);
                continue;
            }
            LOG.infof("holding Lease %s: serving the tunnels", lease);
            runtime.standBy(false);
            AutoCloseable serving = serve.get();
            while (!closed && stillHeld()) {
                pause(RENEW);
            }
            stop(serving);
            if (closed) {
                release();
            } else {
                LOG.warnf("lost Lease %s (not renewed for %s): the tunnels stopped, standing by", lease, GIVE_UP);
                runtime.standBy(true);
            }
        }
    }

    /** Renews; false once renewals have failed for {@link #GIVE_UP}, or another pod holds it. */
    private boolean stillHeld() {
        if (holdsAfterTry()) {
            return true;
        }
        return System.nanoTime() - renewedAt < GIVE_UP.toNanos() && !heldByAnother;
    }

    /** One look at the Lease: takes it when free or expired, renews it when this pod's; whether this pod holds it. */
    private boolean holdsAfterTry() {
        heldByAnother = false;
        try {
            Lease current = api.lease(namespace, lease);
            long now = System.nanoTime();
            if (current == null) {
                return false; // the operator makes it with the pods
            }
            LeaseSpec spec = current.getSpec() == null ? new LeaseSpec() : current.getSpec();
            String version = current.getMetadata().getResourceVersion();
            if (!Objects.equals(version, seenVersion)) {
                seenVersion = version;
                seenAt = now;
            }
            String holder = spec.getHolderIdentity();
            boolean mine = identity.equals(holder);
            boolean free = holder == null || holder.isEmpty();
            long duration = spec.getLeaseDurationSeconds() == null ? DURATION.toNanos()
                    : Duration.ofSeconds(spec.getLeaseDurationSeconds()).toNanos();
            if (!mine && !free && now - seenAt < duration) {
                heldByAnother = true;
                return false;
            }
            ZonedDateTime wall = ZonedDateTime.now(ZoneOffset.UTC);
            if (!mine) {
                spec.setHolderIdentity(identity);
                spec.setAcquireTime(wall);
                spec.setLeaseTransitions(spec.getLeaseTransitions() == null ? 1 : spec.getLeaseTransitions() + 1);
            }
            spec.setRenewTime(wall);
            spec.setLeaseDurationSeconds((int) DURATION.toSeconds());
            current.setSpec(spec);
            if (api.replaceLease(namespace, current)) {
                renewedAt = now;
                return true;
            }
            return false; // written by another in between: look again
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
                api.replaceLease(namespace, current);
                LOG.infof("released Lease %s", lease);
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
