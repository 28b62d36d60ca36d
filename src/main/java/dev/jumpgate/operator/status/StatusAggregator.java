package dev.jumpgate.operator.status;

import dev.jumpgate.api.v1alpha1.FallbackRelayStatus;
import dev.jumpgate.api.v1alpha1.ForwardCheck;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.ForwardStatus;
import dev.jumpgate.api.v1alpha1.HopState;
import dev.jumpgate.api.v1alpha1.HopStatus;
import dev.jumpgate.api.v1alpha1.JumpHost;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RelaySpec;
import dev.jumpgate.api.v1alpha1.RelayStatus;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelStatus;
import dev.jumpgate.api.v1alpha1.TunnelCondition;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ForwardReport;
import dev.jumpgate.report.HopReport;
import dev.jumpgate.ssh.PublicKeyLine;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
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
    /** True when every checked forward's last end-to-end check passed. */
    public static final String REACHABLE = "Reachable";
    /** True when the relay refuses to run commands for the tunnel's key; False means the key is a shell there. */
    public static final String KEY_RESTRICTED = "RelayKeyRestricted";

    /** An agent that has not reported this long after its Deployment appeared is stuck (image, scheduling, crash). */
    public static final Duration FIRST_REPORT_DEADLINE = Duration.ofMinutes(3);

    private StatusAggregator() {
    }

    public static ReverseTunnelStatus aggregate(ReverseTunnel tunnel, TunnelObservation seen) {
        ReverseTunnelStatus previous = tunnel.getStatus() == null ? new ReverseTunnelStatus() : tunnel.getStatus();
        long generation = tunnel.generation();
        AgentReport report = fresh(seen.report(), seen.now()) ? seen.report() : null;

        ReverseTunnelStatus status = new ReverseTunnelStatus();
        status.setObservedGeneration(generation);
        status.setPublicKey(seen.publicKey());
        if (seen.publicKey() != null && seen.specProblems().isEmpty()) {
            status.setAuthorizedKey(authorizedKey(tunnel, seen.publicKey()));
        }
        boolean certified = tunnel.usesCertificate() || seen.certificate() != null;
        if (seen.specProblems().isEmpty() && certified) {
            status.setAuthorizedPrincipal(tunnel.authorizedPrincipalLine(tunnel.getSpec().getRelay()));
        }
        status.setCertificate(seen.certificate());
        boolean valid = seen.specProblems().isEmpty();
        RelaySpec active = valid ? activeRelay(tunnel, seen.report()) : null;
        status.setRelay(valid ? relay(tunnel, generation, active, previous.getRelay(), report, seen.report(), seen.publicKey(),
                certified)
                : previous.getRelay());
        status.setForwards(valid ? forwards(tunnel, active, report, generation) : List.of());
        status.setSshConfig(valid ? EndpointHint.sshConfig(tunnel, active, status.getForwards())
                : previous.getSshConfig());
        long bound = status.getForwards().stream().filter(f -> f.getState() == ForwardState.Bound).count();
        status.setBoundForwards(bound + "/" + (valid ? tunnel.getSpec().getForwards().size() : 0));
        List<ForwardStatus> checked = valid ? checked(tunnel, status.getForwards()) : List.of();
        status.setReachableForwards(checked.stream().filter(f -> Boolean.TRUE.equals(f.getReachable())).count() + "/"
                + checked.size());

        Verdict connected = connected(tunnel, seen, report);
        Verdict ready = connected.status.equals("True") ? ready(status.getForwards(), checked, report, generation)
                : connected.asFalse();
        Verdict reachable = connected.status.equals("True") ? reachable(valid ? tunnel.getSpec().getForwards().size() : 0,
                checked) : new Verdict("Unknown", connected.reason, connected.message);
        List<TunnelCondition> conditions = new ArrayList<>();
        conditions.add(condition(READY, ready, generation, previous, seen.now()));
        conditions.add(condition(CONNECTED, connected, generation, previous, seen.now()));
        conditions.add(condition(REACHABLE, reachable, generation, previous, seen.now()));
        TunnelCondition keyRestricted = condition(previous, KEY_RESTRICTED);
        if (report != null || keyRestricted == null) {
            keyRestricted = condition(KEY_RESTRICTED, keyRestricted(tunnel, report), generation, previous, seen.now());
        }
        conditions.add(keyRestricted);
        status.setConditions(conditions);
        return status;
    }

    private static Verdict keyRestricted(ReverseTunnel tunnel, AgentReport report) {
        if (report != null && Boolean.TRUE.equals(report.relayOpensAnywhere())) {
            return new Verdict("False", Reasons.RELAY_KEY_UNRESTRICTED, "the relay opened a connection for this "
                    + "tunnel's key to a place no Jumpgate key line permits: whoever reads the key's Secret or takes "
                    + "the agent's pod reaches, through the relay, whatever the relay reaches. Replace the key's line in ~"
                    + tunnel.getSpec().getRelay().getUser() + "/.ssh/authorized_keys with status.authorizedKey");
        }
        if (report == null || report.relayRunsCommands() == null) {
            return new Verdict("Unknown", Reasons.RELAY_KEY_UNCHECKED, "the agent checks at each login that the relay "
                    + "runs no command for the key");
        }
        if (report.relayRunsCommands()) {
            return new Verdict("False", Reasons.RELAY_KEY_UNRESTRICTED, "the relay ran a command for this tunnel's key: "
                    + "whoever reads the key's Secret or takes the agent's pod has a shell on the relay as "
                    + tunnel.getSpec().getRelay().getUser() + ". Replace the key's line in ~"
                    + tunnel.getSpec().getRelay().getUser() + "/.ssh/authorized_keys with status.authorizedKey, or "
                    + "give the relay the Match block of the README");
        }
        List<HopReport> hops = report.hops() == null ? List.of() : report.hops();
        for (int i = 0; i < hops.size(); i++) {
            if (Boolean.FALSE.equals(hops.get(i).keyRestricted())) {
                JumpHost hop = i < tunnel.getSpec().getRelay().jumpHosts().size()
                        ? tunnel.getSpec().getRelay().jumpHosts().get(i) : null;
                return new Verdict("False", Reasons.JUMP_HOST_KEY_UNRESTRICTED, "the jump host "
                        + (hop == null ? hops.get(i).host() : hop.where()) + " ran a command for this tunnel's key, or "
                        + "tried a connection no line permits: whoever reads the key's Secret or takes the agent's pod "
                        + "has a shell there, or reaches what it reaches. Replace the key's line there with "
                        + "status.relay.hops[" + i + "].authorizedKey, or give it the jump host block of the README");
            }
        }
        return new Verdict("True", Reasons.RELAY_KEY_RESTRICTED, "the relay refuses to run commands for the key"
                + (hops.isEmpty() ? "" : hops.stream().allMatch(h -> Boolean.TRUE.equals(h.keyRestricted()))
                        ? ", and so do the jump hosts" : "; the jump hosts are not all checked yet"));
    }

    private record Verdict(String status, String reason, String message) {
        Verdict asFalse() {
            return new Verdict("False", reason, message);
        }
    }

    private static Verdict connected(ReverseTunnel tunnel, TunnelObservation seen, AgentReport report) {
        if (!seen.specProblems().isEmpty()) {
            return new Verdict("False", Reasons.SPEC_INVALID, String.join("; ", seen.specProblems()));
        }
        if (seen.handOverProblem() != null) {
            return new Verdict("False", seen.handOverProblem().reason(), seen.handOverProblem().message());
        }
        if (report == null) {
            if (seen.report() != null) {
                return new Verdict("Unknown", Reasons.AGENT_UNAVAILABLE, "the agent has not reported since "
                        + seen.report().heartbeat() + "; see its pod");
            }
            if (seen.agentDeployedAt() == null) {
                return new Verdict("Unknown", Reasons.AGENT_STARTING, "handing the tunnel to its agent");
            }
            if (Duration.between(seen.agentDeployedAt(), seen.now()).compareTo(FIRST_REPORT_DEADLINE) > 0) {
                return new Verdict("Unknown", Reasons.AGENT_UNAVAILABLE, "the agent has not reported in "
                        + FIRST_REPORT_DEADLINE.toMinutes() + " minutes; see kubectl describe pod -l "
                        + Labels.AGENT + "=" + Labels.value(Names.agentOf(tunnel)));
            }
            return new Verdict("Unknown", Reasons.AGENT_STARTING, "waiting for the agent's first report");
        }
        if (report.connected()) {
            return new Verdict("True", Reasons.CONNECTED, report.message());
        }
        return new Verdict("False", report.reason(), report.message());
    }

    private static Verdict ready(List<ForwardStatus> forwards, List<ForwardStatus> checked, AgentReport report,
            long generation) {
        if (report.generation() < generation) {
            return new Verdict("False", Reasons.FORWARD_PENDING, "the agent has not applied generation " + generation
                    + " yet");
        }
        ForwardStatus blocking = forwards.stream().filter(f -> f.getState() == ForwardState.Failed).findFirst()
                .or(() -> forwards.stream().filter(f -> f.getState() != ForwardState.Bound).findFirst())
                .or(() -> checked.stream().filter(f -> Boolean.FALSE.equals(f.getReachable())).findFirst())
                .orElse(null);
        if (blocking != null) {
            return new Verdict("False", blocking.getReason(), "forward " + blocking.getName() + ": " + blocking.getMessage());
        }
        ForwardStatus unchecked = checked.stream().filter(f -> f.getReachable() == null).findFirst().orElse(null);
        if (unchecked != null) {
            return new Verdict("False", Reasons.CHECK_PENDING, "forward " + unchecked.getName() + " is bound; waiting "
                    + "for its first end-to-end check");
        }
        return new Verdict("True", Reasons.TUNNEL_READY, "connected; " + forwards.size() + " of " + forwards.size()
                + " forwards bound" + (checked.isEmpty() ? "" : ", " + checked.size() + " reachable end to end"));
    }

    /** The forwards the agent checks end to end, as their status says. */
    private static List<ForwardStatus> checked(ReverseTunnel tunnel, List<ForwardStatus> forwards) {
        Set<String> names = tunnel.getSpec().getForwards().stream().filter(f -> f.checkMode() != ForwardCheck.None)
                .map(ForwardSpec::getName).collect(Collectors.toSet());
        return forwards.stream().filter(f -> names.contains(f.getName())).toList();
    }

    private static Verdict reachable(int forwards, List<ForwardStatus> checked) {
        if (checked.isEmpty()) {
            return new Verdict("Unknown", Reasons.CHECKS_OFF, "no forward is checked end to end (check: None, or a "
                    + "port the relay allocates)");
        }
        List<ForwardStatus> failing = checked.stream().filter(f -> Boolean.FALSE.equals(f.getReachable())).toList();
        if (!failing.isEmpty()) {
            ForwardStatus first = failing.get(0);
            return new Verdict("False", first.getReason(), "forward " + first.getName() + ": " + first.getMessage()
                    + (failing.size() > 1 ? " (and " + (failing.size() - 1) + " more forwards unreachable)" : ""));
        }
        ForwardStatus pending = checked.stream().filter(f -> f.getReachable() == null).findFirst().orElse(null);
        if (pending != null) {
            return new Verdict("Unknown", Reasons.CHECK_PENDING, "forward " + pending.getName() + ": "
                    + (pending.getState() == ForwardState.Bound ? "waiting for its first end-to-end check"
                    : "not bound: " + pending.getMessage()));
        }
        return new Verdict("True", Reasons.REACHABLE, checked.size() + " of " + forwards + " forwards checked end to "
                + "end: a connection on the relay to each listen reached its target through the agent");
    }

    /**
     * The relay the agent's last report says holds the tunnel, or is tried next: spec.relay unless the tunnel has
     * fallback relays and the agent moved to one. An index the spec does not have (a report older than a change of
     * the fallbacks) counts as the preferred relay.
     */
    private static RelaySpec activeRelay(ReverseTunnel tunnel, AgentReport last) {
        List<RelaySpec> relays = tunnel.getSpec().relays();
        Integer index = last == null ? null : last.relay();
        return index != null && index < relays.size() ? relays.get(index) : relays.get(0);
    }

    private static List<ForwardStatus> forwards(ReverseTunnel tunnel, RelaySpec active, AgentReport report,
            long generation) {
        Map<String, ForwardReport> reported = report == null ? Map.of()
                : report.forwards().stream().collect(Collectors.toMap(ForwardReport::name, Function.identity(), (a, b) -> a));
        List<ForwardStatus> result = new ArrayList<>();
        for (ForwardSpec spec : tunnel.getSpec().getForwards()) {
            ForwardReport r = reported.get(spec.getName());
            boolean current = r != null && r.bindAddress().equals(spec.getRemote().getBindAddress())
                    && r.requestedPort() == spec.getRemote().getPort() && r.target().equals(spec.destination());
            ForwardStatus f = new ForwardStatus();
            f.setName(spec.getName());
            f.setRemoteBindAddress(spec.getRemote().getBindAddress());
            f.setTarget(spec.destination());
            if (current) {
                f.setState(r.state());
                f.setReason(r.reason());
                f.setMessage(r.message());
                f.setRemotePort(r.state() == ForwardState.Bound ? r.remotePort() : null);
                f.setRefusedConnections(r.refusedConnections() > 0 ? r.refusedConnections() : null);
                if (r.state() == ForwardState.Bound && r.check() != null && spec.checkMode() != ForwardCheck.None) {
                    f.setReachable(r.check().reachable());
                    f.setLastCheckTime(r.check().finishedAt());
                    f.setLatencyMillis(r.check().reachable() ? r.check().latencyMillis() : null);
                    f.setListeningOn(r.check().listeningOn());
                }
            } else {
                f.setState(ForwardState.Pending);
                f.setReason(Reasons.FORWARD_PENDING);
                f.setMessage(report == null ? "waiting for the agent" : "not applied by the agent yet");
            }
            int port = f.getRemotePort() != null ? f.getRemotePort() : spec.getRemote().getPort();
            if (port != 0) {
                f.setEndpoint(EndpointHint.sshCommand(active, spec, port));
            }
            result.add(f);
        }
        return result;
    }

    /** From the fresh report when there is one; what the last report said otherwise, but never "connected since". */
    private static RelayStatus relay(ReverseTunnel tunnel, long generation, RelaySpec active, RelayStatus previous,
            AgentReport fresh, AgentReport last, String publicKey, boolean certified) {
        RelayStatus relay = new RelayStatus();
        relay.setHops(hops(tunnel, last, publicKey));
        List<RelaySpec> relays = tunnel.getSpec().relays();
        if (relays.size() > 1) {
            relay.setActive(active.where());
            relay.setFailover(last == null ? null : last.failover());
            PublicKeyLine key = parsedOrNull(publicKey);
            relay.setFallbacks(relays.subList(1, relays.size()).stream().map(fallback -> {
                FallbackRelayStatus status = new FallbackRelayStatus(fallback.where(),
                        key == null ? null : tunnel.authorizedKeyLine(key, fallback));
                status.setAuthorizedPrincipal(certified ? tunnel.authorizedPrincipalLine(fallback) : null);
                return status;
            }).toList());
        }
        if (tunnel.getSpec().getRelay().trustsFirstUse()) {
            // Pinned once: the agent reads it back and refuses any other key from then on. Only the preferred
            // relay's, from a report on this very spec (an older one may have been connected to a relay that is a
            // fallback now): a fallback relay's keys are always pinned in the spec.
            String accepted = previous == null ? null : previous.getAcceptedHostKey();
            boolean onThePreferred = relays.size() == 1 ? fresh != null && (fresh.relay() == null || fresh.relay() == 0)
                    : fresh != null && Integer.valueOf(0).equals(fresh.relay());
            if (accepted == null && onThePreferred && fresh.connected() && fresh.generation() == generation) {
                accepted = fresh.hostKey();
            }
            relay.setAcceptedHostKey(accepted);
        }
        if (last != null) {
            relay.setHostKey(last.hostKey());
            relay.setFingerprint(last.fingerprint());
            relay.setConnectedSince(fresh != null && fresh.connected() ? fresh.connectedSince() : null);
            relay.setReconnects(last.reconnects());
            relay.setLastError(last.lastError());
            relay.setSshVersion(last.relaySshVersion());
        } else if (previous != null) {
            relay.setHostKey(previous.getHostKey());
            relay.setFingerprint(previous.getFingerprint());
            relay.setReconnects(previous.getReconnects());
            relay.setLastError(previous.getLastError());
            relay.setSshVersion(previous.getSshVersion());
        }
        return relay.equals(new RelayStatus()) ? null : relay;
    }

    /**
     * Each jump host of the spec: what the agent's last report says of it (when that report was made for the same
     * hops) and the line its authorized_keys needs; null without jump hosts.
     */
    private static List<HopStatus> hops(ReverseTunnel tunnel, AgentReport last, String publicKey) {
        List<JumpHost> via = tunnel.getSpec().getRelay().jumpHosts();
        if (via.isEmpty()) {
            return null;
        }
        List<String> lines = null;
        if (publicKey != null) {
            try {
                lines = tunnel.jumpHostKeyLines(PublicKeyLine.parse(publicKey));
            } catch (IllegalArgumentException e) {
                lines = null;
            }
        }
        List<HopReport> seen = last == null || last.hops() == null ? List.of() : last.hops();
        List<HopStatus> hops = new ArrayList<>();
        for (int i = 0; i < via.size(); i++) {
            JumpHost hop = via.get(i);
            HopReport report = i < seen.size() && seen.get(i).isOf(hop) ? seen.get(i) : null;
            HopStatus status = new HopStatus(hop.where(), report == null ? HopState.NotReached : report.state(),
                    report == null ? null : report.fingerprint(), report == null ? null : report.message(),
                    lines == null ? null : lines.get(i));
            status.setKeyRestricted(report == null ? null : report.keyRestricted());
            hops.add(status);
        }
        return hops;
    }

    private static String authorizedKey(ReverseTunnel tunnel, String publicKey) {
        PublicKeyLine key = parsedOrNull(publicKey);
        return key == null ? null : tunnel.authorizedKeyLine(key);
    }

    private static PublicKeyLine parsedOrNull(String publicKey) {
        try {
            return publicKey == null ? null : PublicKeyLine.parse(publicKey);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean fresh(AgentReport report, Instant now) {
        if (report == null || report.heartbeat() == null) {
            return false;
        }
        try {
            return Duration.between(Instant.parse(report.heartbeat()), now).compareTo(AgentContract.STALE_AFTER) < 0;
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

    /** The previous status with Ready set False for a failure of the operator's own. */
    public static ReverseTunnelStatus failed(ReverseTunnel tunnel, String reason, String message, Instant now) {
        ReverseTunnelStatus previous = tunnel.getStatus() == null ? new ReverseTunnelStatus() : tunnel.getStatus();
        long generation = tunnel.generation();
        ReverseTunnelStatus status = Serialization.clone(previous);
        List<TunnelCondition> conditions = new ArrayList<>();
        conditions.add(condition(READY, new Verdict("False", reason, message), generation, previous, now));
        TunnelCondition connected = condition(previous, CONNECTED);
        if (connected != null) {
            conditions.add(connected);
        }
        status.setConditions(conditions);
        return status;
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
