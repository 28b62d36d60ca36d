package dev.jumpgate.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.RelaySpec;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.contract.AgentContract;
import java.util.List;

/**
 * What an agent sees, as it tells the operator: written as JSON into the annotation
 * {@link AgentContract#REPORT_ANNOTATION} of the tunnel's Lease on every change (one that only brings newer check times
 * or a new next attempt waits for the heartbeat, {@link #sameApartFromTimes}). The operator folds it into the ReverseTunnel's status; it is never status itself,
 * because only the operator can tell when an agent has gone silent.
 *
 * @param generation    the ReverseTunnel generation whose spec the agent applies
 * @param connected     whether the SSH session to the relay is up
 * @param reason        one of {@link dev.jumpgate.api.v1alpha1.Reasons}: why not connected, or Connected
 * @param message       the same for a person
 * @param connectedSince RFC 3339 time the current session came up
 * @param reconnects    sessions lost and re-established since the agent started
 * @param lastError     the last connection failure, for a person
 * @param nextAttempt   RFC 3339 time the agent will next try to connect while it has no session (a relay that
 *                  accepts connections again is tried sooner); null while connected
 * @param hostKey       the relay host key last seen ("ssh-ed25519 AAAA...")
 * @param fingerprint   its SHA256 fingerprint
 * @param relayRunsCommands whether the relay ran a command for the tunnel's key (it must not); null until checked
 * @param relaySshVersion the relay's SSH identification string, as it sent it
 * @param relayOpensAnywhere whether the relay opened a connection for the key to a place no key line permits
 *                  (localhost:1): the key's line lacks its permitopen options; null until checked
 * @param forwards      one entry per forward of the applied spec
 * @param heartbeat     RFC 3339 time of writing; the operator declares the agent stale when it is old
 * @param hops          one entry per jump host of the applied spec, as the last connection attempt found it; null
 *                  when the spec has none
 * @param relay         with fallback relays: the index in {@code spec.relays()} of the relay the session is on, or of
 *                  the one being tried (0: the preferred relay); null for a tunnel with one relay
 * @param failover      with fallback relays, while another than the preferred one is in use or tried: why, for a person
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record AgentReport(
        long generation,
        boolean connected,
        String reason,
        String message,
        String connectedSince,
        int reconnects,
        String lastError,
        String nextAttempt,
        String hostKey,
        String fingerprint,
        Boolean relayRunsCommands,
        String relaySshVersion,
        Boolean relayOpensAnywhere,
        List<ForwardReport> forwards,
        String heartbeat,
        List<HopReport> hops,
        Integer relay,
        String failover) {

    /** A report of a tunnel with one relay. */
    public AgentReport(long generation, boolean connected, String reason, String message, String connectedSince,
            int reconnects, String lastError, String nextAttempt, String hostKey, String fingerprint,
            Boolean relayRunsCommands, String relaySshVersion, Boolean relayOpensAnywhere, List<ForwardReport> forwards,
            String heartbeat, List<HopReport> hops) {
        this(generation, connected, reason, message, connectedSince, reconnects, lastError, nextAttempt, hostKey,
                fingerprint, relayRunsCommands, relaySshVersion, relayOpensAnywhere, forwards, heartbeat, hops, null, null);
    }

    /** A report of a tunnel that goes to its relay directly. */
    public AgentReport(long generation, boolean connected, String reason, String message, String connectedSince,
            int reconnects, String lastError, String nextAttempt, String hostKey, String fingerprint,
            Boolean relayRunsCommands, String relaySshVersion, Boolean relayOpensAnywhere, List<ForwardReport> forwards,
            String heartbeat) {
        this(generation, connected, reason, message, connectedSince, reconnects, lastError, nextAttempt, hostKey,
                fingerprint, relayRunsCommands, relaySshVersion, relayOpensAnywhere, forwards, heartbeat, null);
    }

    public AgentReport withHeartbeat(String time) {
        return new AgentReport(generation, connected, reason, message, connectedSince, reconnects, lastError, nextAttempt, hostKey,
                fingerprint, relayRunsCommands, relaySshVersion, relayOpensAnywhere, forwards, time, hops, relay, failover);
    }

    /**
     * The report as the operator may put it into status and Events: an agent's pod is trusted with its own tunnel and
     * no further, so whatever it wrote is bounded, stripped of control characters, and a reason that is not one word
     * becomes "Unknown".
     */
    public AgentReport sanitized() {
        List<ForwardReport> cleanForwards = forwards == null ? List.of() : forwards.stream()
                .map(f -> new ForwardReport(text(f.name(), 63), text(f.bindAddress(), 253), f.requestedPort(),
                        f.remotePort(), text(f.target(), 260), f.state(), reason(f.reason()),
                        text(f.message(), ReportText.MAX_MESSAGE), Math.max(0, f.refusedConnections()),
                        f.check() == null ? null : f.check().sanitized()))
                .toList();
        return new AgentReport(generation, connected, reason(reason), text(message, ReportText.MAX_MESSAGE),
                text(connectedSince, 64), reconnects, text(lastError, ReportText.MAX_MESSAGE), text(nextAttempt, 64), text(hostKey, 16_384),
                text(fingerprint, 128), relayRunsCommands, text(relaySshVersion, 255), relayOpensAnywhere, cleanForwards, text(heartbeat, 64),
                hops == null ? null : hops.stream().limit(RelaySpec.MAX_JUMP_HOSTS).map(HopReport::sanitized).toList(),
                relay == null || relay < 0 || relay > ReverseTunnelSpec.MAX_FALLBACK_RELAYS ? null : relay,
                text(failover, ReportText.MAX_MESSAGE));
    }

    /**
     * Whether the two reports say the same apart from each forward's check time and round trip and the next connect
     * attempt: what changes with every check or failed attempt, as opposed to what a check or an attempt found. A
     * report that tells nothing more is not worth a write or a line (10,000 agents retrying an outage would otherwise
     * write at their backoff's pace).
     */
    public boolean sameApartFromTimes(AgentReport other) {
        return other != null && withoutCheckTimes().equals(other.withoutCheckTimes());
    }

    private AgentReport withoutCheckTimes() {
        List<ForwardReport> timeless = forwards == null ? null : forwards.stream()
                .map(f -> f.check() == null ? f : new ForwardReport(f.name(), f.bindAddress(), f.requestedPort(),
                        f.remotePort(), f.target(), f.state(), f.reason(), f.message(), f.refusedConnections(),
                        new CheckReport(f.check().reachable(), null, 0, f.check().listeningOn())))
                .toList();
        return new AgentReport(generation, connected, reason, message, connectedSince, reconnects, lastError, null, hostKey,
                fingerprint, relayRunsCommands, relaySshVersion, relayOpensAnywhere, timeless, heartbeat, hops, relay, failover);
    }

    private static String text(String value, int max) {
        return ReportText.bounded(value, max);
    }

    private static String reason(String reason) {
        return reason != null && reason.matches("[A-Z][A-Za-z0-9]{0,63}") ? reason : "Unknown";
    }

    public boolean allForwardsBound() {
        return forwards != null && !forwards.isEmpty()
                && forwards.stream().allMatch(f -> f.state() == ForwardState.Bound);
    }
}
