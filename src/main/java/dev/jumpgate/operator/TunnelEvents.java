package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardStatus;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelStatus;
import dev.jumpgate.operator.status.StatusAggregator;
import dev.jumpgate.api.v1alpha1.TunnelCondition;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * An Event on the tunnel each time its readiness changes reason: Normal when it becomes ready, Warning with the
 * reason otherwise, so that {@code kubectl describe rtun} tells the story; one each time a forward's end-to-end verdict
 * changes, rate-limited per forward; and a Warning when the relay turns out to run commands for the tunnel's key.
 * Messages come from conditions and the forwards' status, which never carry key material.
 */
@ApplicationScoped
public class TunnelEvents {

    private static final Logger LOG = Logger.getLogger(TunnelEvents.class);
    static final String COMPONENT = "jumpgate-operator";

    @Inject
    KubernetesClient client;

    /** At most this many reachability Events per forward in {@link #REACHABILITY_WINDOW}: a flapping path is one line. */
    static final int REACHABILITY_EVENTS = 3;
    static final Duration REACHABILITY_WINDOW = Duration.ofMinutes(10);
    /** When each forward (tunnel uid/forward) last had a reachability Event, newest last. */
    private final Map<String, Deque<Instant>> reachabilityEvents = new ConcurrentHashMap<>();

    void onStatusChange(ReverseTunnel tunnel, ReverseTunnelStatus before, ReverseTunnelStatus after) {
        String readyEvent = onReadyChange(tunnel, before, after);
        onReachabilityChange(tunnel, before, after, readyEvent, Instant.now());
        onConnectionsRefused(tunnel, before, after);
        onRelayMove(tunnel, before, after);
        TunnelCondition keyWas = StatusAggregator.condition(before, StatusAggregator.KEY_RESTRICTED);
        TunnelCondition keyNow = StatusAggregator.condition(after, StatusAggregator.KEY_RESTRICTED);
        if (keyNow != null && "False".equals(keyNow.getStatus())
                && (keyWas == null || !"False".equals(keyWas.getStatus()))) {
            record(tunnel, "Warning", keyNow.getReason(), keyNow.getMessage());
        }
    }

    /**
     * With fallback relays, each move of the tunnel from one relay to another: a Warning when it leaves the preferred
     * relay or moves between fallbacks (with why), a Normal event when it is back on the preferred one.
     */
    private void onRelayMove(ReverseTunnel tunnel, ReverseTunnelStatus before, ReverseTunnelStatus after) {
        String was = before == null || before.getRelay() == null ? null : before.getRelay().getActive();
        String now = after == null || after.getRelay() == null ? null : after.getRelay().getActive();
        if (was == null || now == null || was.equals(now)) {
            return;
        }
        if (now.equals(tunnel.getSpec().getRelay().where())) {
            record(tunnel, "Normal", Reasons.RELAY_FAILBACK, "the tunnel is back on its preferred relay " + now
                    + ", from " + was);
        } else {
            record(tunnel, "Warning", Reasons.RELAY_FAILOVER, "the tunnel moved from " + was + " to " + now
                    + (after.getRelay().getFailover() == null ? "" : ": " + after.getRelay().getFailover()));
        }
    }

    /** A Warning each time the count of connections a forward refused at its cap grows (at most every 30 s). */
    private void onConnectionsRefused(ReverseTunnel tunnel, ReverseTunnelStatus before, ReverseTunnelStatus after) {
        if (after == null || after.getForwards() == null) {
            return;
        }
        for (ForwardStatus forward : after.getForwards()) {
            long now = forward.getRefusedConnections() == null ? 0 : forward.getRefusedConnections();
            long was = before == null || before.getForwards() == null ? 0 : before.getForwards().stream()
                    .filter(f -> f.getName().equals(forward.getName()) && f.getRefusedConnections() != null)
                    .mapToLong(ForwardStatus::getRefusedConnections).findFirst().orElse(0);
            if (now > was) {
                int cap = tunnel.getSpec().getForwards().stream().filter(f -> f.getName().equals(forward.getName()))
                        .mapToInt(ForwardSpec::getMaxConnections).findFirst().orElse(0);
                record(tunnel, "Warning", Reasons.CONNECTIONS_REFUSED, "forward " + forward.getName() + " refused "
                        + (now - was) + " connections past its cap of " + cap + " open at once, or past the agent's "
                        + "budget for all forwards together (" + now + " since the agent started); if they were wanted, "
                        + "raise spec.forwards[].maxConnections, or the agent pods' memory limit for the budget");
            }
        }
    }

    /**
     * An Event each time a forward's end-to-end verdict changes (Warning with where the path broke, Normal when it is
     * reachable again), at most {@link #REACHABILITY_EVENTS} per forward in {@link #REACHABILITY_WINDOW}: the status
     * always has the current verdict; the Events tell the story without flooding it when a path flaps.
     */
    private void onReachabilityChange(ReverseTunnel tunnel, ReverseTunnelStatus before, ReverseTunnelStatus after,
            String readyEvent, Instant now) {
        if (after == null || after.getForwards() == null) {
            return;
        }
        for (ForwardStatus forward : after.getForwards()) {
            if (forward.getReachable() == null) {
                continue;
            }
            ForwardStatus was = before == null || before.getForwards() == null ? null : before.getForwards().stream()
                    .filter(f -> f.getName().equals(forward.getName())).findFirst().orElse(null);
            boolean sameVerdict = was != null && Objects.equals(was.getReachable(), forward.getReachable())
                    && Objects.equals(was.getReason(), forward.getReason());
            boolean firstAndFine = (was == null || was.getReachable() == null) && forward.getReachable();
            String message = "forward " + forward.getName() + ": " + forward.getMessage();
            if (sameVerdict || firstAndFine || (forward.getReason() + " " + message).equals(readyEvent)
                    || !allowed(tunnel.getMetadata().getUid() + "/" + forward.getName(), now)) {
                continue; // unchanged, fine from the start, told by the Ready Event just now, or over its rate
            }
            record(tunnel, forward.getReachable() ? "Normal" : "Warning", forward.getReason(), message);
        }
    }

    /**
     * Whether the forward may have one more reachability Event now; counts it if so. Forwards whose last Event left the
     * window are forgotten on the way (a deleted tunnel's too): the operator's memory does not grow with every forward
     * it ever saw.
     */
    boolean allowed(String forward, Instant now) {
        Instant windowStart = now.minus(REACHABILITY_WINDOW);
        reachabilityEvents.entrySet().removeIf(e -> !e.getKey().equals(forward) && quietSince(e.getValue(), windowStart));
        Deque<Instant> times = reachabilityEvents.computeIfAbsent(forward, k -> new ArrayDeque<>());
        synchronized (times) {
            while (!times.isEmpty() && times.peekFirst().isBefore(windowStart)) {
                times.pollFirst();
            }
            if (times.size() >= REACHABILITY_EVENTS) {
                return false;
            }
            times.addLast(now);
            return true;
        }
    }

    private static boolean quietSince(Deque<Instant> times, Instant windowStart) {
        synchronized (times) {
            return times.isEmpty() || times.peekLast().isBefore(windowStart);
        }
    }

    /** The forwards whose Events are counted now. */
    int forwardsCounted() {
        return reachabilityEvents.size();
    }

    /** Returns the Event recorded ("reason message"), or null. */
    private String onReadyChange(ReverseTunnel tunnel, ReverseTunnelStatus before, ReverseTunnelStatus after) {
        TunnelCondition was = StatusAggregator.readyCondition(before);
        TunnelCondition now = StatusAggregator.readyCondition(after);
        if (now == null || (was != null && Objects.equals(was.getReason(), now.getReason())
                && Objects.equals(was.getStatus(), now.getStatus()))) {
            return null;
        }
        boolean ready = "True".equals(now.getStatus());
        boolean starting = Reasons.AGENT_STARTING.equals(now.getReason());
        if (was == null && starting) {
            // A new tunnel on its way: the status says so, and an Event would be one more write per tunnel created
            // (a sixth of the API server's writes when thousands come at once) that tells nothing new. Its story
            // starts with what happens next: Ready, or why not.
            return null;
        }
        String type = ready || starting ? "Normal" : "Warning";
        record(tunnel, type, now.getReason(), now.getMessage());
        return now.getReason() + " " + now.getMessage();
    }

    private void record(ReverseTunnel tunnel, String type, String reason, String message) {
        String time = Instant.now().toString();
        try {
            client.v1().events().inNamespace(tunnel.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata()
                    .withName(tunnel.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 8))
                    .withNamespace(tunnel.getMetadata().getNamespace())
                    .endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder()
                            .withApiVersion(tunnel.getApiVersion())
                            .withKind(tunnel.getKind())
                            .withName(tunnel.getMetadata().getName())
                            .withNamespace(tunnel.getMetadata().getNamespace())
                            .withUid(tunnel.getMetadata().getUid())
                            .build())
                    .withType(type)
                    .withReason(reason)
                    .withMessage(message)
                    .withFirstTimestamp(time)
                    .withLastTimestamp(time)
                    .withCount(1)
                    .withNewSource().withComponent(COMPONENT).endSource()
                    .build()).create();
        } catch (KubernetesClientException e) {
            // An Event is a courtesy; the status already says it.
            LOG.debugf("could not record event %s on %s: %s", reason, tunnel.getMetadata().getName(), e.getMessage());
        }
    }
}
