package dev.jumpgate.operator.status;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardStatus;
import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RelayStatus;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelStatus;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ForwardReport;
import dev.jumpgate.report.ForwardState;
import dev.jumpgate.ssh.AuthorizedKeyLine;
import dev.jumpgate.ssh.PublicKeyLine;
import dev.jumpgate.operator.Names;
import dev.jumpgate.api.v1alpha1.TunnelCondition;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Folds what the operator observed into a tunnel's status. Pure: the same observation and previous status give the
 * same status, and a condition whose status, reason and message did not change keeps its lastTransitionTime, so
 * that the reconciler can patch only on a real difference.
 */
public final class StatusAggregator {

    public static final String READY = "Ready";
    public static final String CONNECTED = "Connected";

    /** The agent rewrites its report at least this often; see the agent's LeaseReporter. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(30);
    /** A report older than this is from an agent that is gone or hung. */
    public static final Duration STALE = HEARTBEAT.multipliedBy(3);

    private StatusAggregator() {
    }

    public static ReverseTunnelStatus aggregate(ReverseTunnel tunnel, TunnelObservation seen) {
        ReverseTunnelStatus previous = tunnel.getStatus() == null ? new ReverseTunnelStatus() : tunnel.getStatus();
        long generation = tunnel.getMetadata().getGeneration() == null ? 0 : tunnel.getMetadata().getGeneration();
        AgentReport report = fresh(seen.report(), seen.now()) ? seen.report() : null;

        ReverseTunnelStatus status = new ReverseTunnelStatus();
        status.setObservedGeneration(generation);
        status.setPublicKey(seen.publicKey());
        if (seen.publicKey() != null && seen.specProblems().isEmpty()) {
            status.setAuthorizedKey(authorizedKey(tunnel, seen.publicKey()));
        }
        status.setRelay(relay(tunnel, previous.getRelay(), seen.report()));
        status.setForwards(seen.specProblems().isEmpty() ? forwards(tunnel, report, generation) : List.of());
        long bound = status.getForwards().stream().filter(f -> f.getState() == ForwardState.Bound).count();
        status.setBoundForwards(bound + "/" + (tunnel.getSpec().getForwards() == null ? 0 : tunnel.getSpec().getForwards().size()));

        Verdict connected = connected(seen, report);
        Verdict ready = connected.status.equals("True") ? ready(status.getForwards(), report, generation) : connected.asFalse();
        List<TunnelCondition> conditions = new ArrayList<>();
        conditions.add(condition(READY, ready, generation, previous, seen.now()));
        conditions.add(condition(CONNECTED, connected, generation, previous, seen.now()));
        status.setConditions(conditions);
        return status;
    }

    private record Verdict(String status, String reason, String message) {
        Verdict asFalse() {
            return new Verdict("False", reason, message);
        }
    }

    private static Verdict connected(TunnelObservation seen, AgentReport report) {
        if (!seen.specProblems().isEmpty()) {
            return new Verdict("False", Reasons.SPEC_INVALID, String.join("; ", seen.specProblems()));
        }
        if (seen.keyProblem() != null) {
            return new Verdict("False", Reasons.SECRET_MISSING, seen.keyProblem());
        }
        if (report == null) {
            if (seen.report() != null) {
                return new Verdict("Unknown", Reasons.AGENT_UNAVAILABLE, "the agent has not reported since "
                        + seen.report().heartbeat() + "; see its pod");
            }
            return seen.agentDeployed()
                    ? new Verdict("Unknown", Reasons.AGENT_STARTING, "waiting for the agent's first report")
                    : new Verdict("Unknown", Reasons.AGENT_UNAVAILABLE, "the agent is not deployed");
        }
        if (report.connected()) {
            return new Verdict("True", Reasons.CONNECTED, report.message());
        }
        return new Verdict("False", report.reason(), report.message());
    }

    private static Verdict ready(List<ForwardStatus> forwards, AgentReport report, long generation) {
        if (report.generation() < generation) {
            return new Verdict("False", Reasons.FORWARD_PENDING, "the agent has not applied generation " + generation
                    + " yet");
        }
        ForwardStatus blocking = forwards.stream().filter(f -> f.getState() == ForwardState.Failed).findFirst()
                .orElse(forwards.stream().filter(f -> f.getState() != ForwardState.Bound).findFirst().orElse(null));
        if (blocking != null) {
            return new Verdict("False", blocking.getReason(), "forward " + blocking.getName() + ": " + blocking.getMessage());
        }
        return new Verdict("True", Reasons.TUNNEL_READY, "connected; " + forwards.size() + " of " + forwards.size()
                + " forwards bound");
    }

    private static List<ForwardStatus> forwards(ReverseTunnel tunnel, AgentReport report, long generation) {
        Map<String, ForwardReport> reported = report == null ? Map.of()
                : report.forwards().stream().collect(Collectors.toMap(ForwardReport::name, Function.identity(), (a, b) -> a));
        List<ForwardStatus> result = new ArrayList<>();
        for (ForwardSpec spec : tunnel.getSpec().getForwards()) {
            ForwardReport r = reported.get(spec.getName());
            boolean current = r != null && r.bindAddress().equals(spec.getRemote().getBindAddress())
                    && r.requestedPort() == spec.getRemote().getPort() && r.target().equals(spec.getTarget().toString());
            ForwardStatus f = new ForwardStatus();
            f.setName(spec.getName());
            f.setRemoteBindAddress(spec.getRemote().getBindAddress());
            f.setTarget(spec.getTarget().toString());
            if (current) {
                f.setState(r.state());
                f.setReason(r.reason());
                f.setMessage(r.message());
                f.setRemotePort(r.state() == ForwardState.Bound ? r.remotePort() : null);
            } else {
                f.setState(ForwardState.Pending);
                f.setReason(Reasons.FORWARD_PENDING);
                f.setMessage(report == null ? "waiting for the agent" : "not applied by the agent yet");
            }
            int port = f.getRemotePort() != null ? f.getRemotePort() : spec.getRemote().getPort();
            if (port != 0) {
                f.setEndpoint(EndpointHint.sshCommand(tunnel.getSpec().getRelay(), spec, port));
            }
            result.add(f);
        }
        return result;
    }

    private static RelayStatus relay(ReverseTunnel tunnel, RelayStatus previous, AgentReport report) {
        RelayStatus relay = new RelayStatus();
        var spec = tunnel.getSpec().getRelay();
        boolean trustsFirstUse = spec.getHostKeyPolicy() == HostKeyPolicy.AcceptNew
                && (spec.getHostKeys() == null || spec.getHostKeys().isEmpty());
        if (trustsFirstUse) {
            // Pinned once: the agent reads it back and refuses any other key from then on.
            String accepted = previous == null ? null : previous.getAcceptedHostKey();
            if (accepted == null && report != null && report.connected()) {
                accepted = report.hostKey();
            }
            relay.setAcceptedHostKey(accepted);
        }
        if (report != null) {
            relay.setHostKey(report.hostKey());
            relay.setFingerprint(report.fingerprint());
            relay.setConnectedSince(report.connected() ? report.connectedSince() : null);
            relay.setReconnects(report.reconnects());
            relay.setLastError(report.lastError());
        } else if (previous != null) {
            relay.setHostKey(previous.getHostKey());
            relay.setFingerprint(previous.getFingerprint());
            relay.setReconnects(previous.getReconnects());
            relay.setLastError(previous.getLastError());
        }
        return relay.equals(new RelayStatus()) ? null : relay;
    }

    private static String authorizedKey(ReverseTunnel tunnel, String publicKey) {
        List<AuthorizedKeyLine.Listen> listens = tunnel.getSpec().getForwards().stream()
                .map(f -> new AuthorizedKeyLine.Listen(f.getRemote().getBindAddress(), f.getRemote().getPort()))
                .toList();
        try {
            return AuthorizedKeyLine.of(PublicKeyLine.parse(publicKey), listens, Names.keyComment(tunnel));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean fresh(AgentReport report, Instant now) {
        if (report == null || report.heartbeat() == null) {
            return false;
        }
        try {
            return Duration.between(Instant.parse(report.heartbeat()), now).compareTo(STALE) < 0;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    private static TunnelCondition condition(String type, Verdict verdict, long generation, ReverseTunnelStatus previous,
            Instant now) {
        TunnelCondition before = condition(previous, type);
        TunnelCondition after = new TunnelCondition(type, verdict.status, verdict.reason, verdict.message, now.toString(),
                generation);
        if (after.saysTheSameAs(before) && before.getLastTransitionTime() != null) {
            after.setLastTransitionTime(before.getLastTransitionTime());
        }
        return after;
    }

    /** The condition of this type in a status, or null. */
    public static TunnelCondition condition(ReverseTunnelStatus status, String type) {
        return status == null || status.getConditions() == null ? null
                : status.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    /** The Ready condition of a status, or null. */
    public static TunnelCondition readyCondition(ReverseTunnelStatus status) {
        return condition(status, READY);
    }
}
