package dev.jumpgate.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * What an agent sees, as it tells the operator: written as JSON into the annotation {@link #ANNOTATION} of the
 * tunnel's Lease on every change. The operator folds it into the ReverseTunnel's status; it is never status itself,
 * because only the operator can tell when an agent has gone silent.
 *
 * @param generation    the ReverseTunnel generation whose spec the agent applies
 * @param connected     whether the SSH session to the relay is up
 * @param reason        one of {@link dev.jumpgate.api.v1alpha1.Reasons}: why not connected, or Connected
 * @param message       the same for a person
 * @param connectedSince RFC 3339 time the current session came up
 * @param reconnects    sessions lost and re-established since the agent started
 * @param lastError     the last connection failure, for a person
 * @param hostKey       the relay host key last seen ("ssh-ed25519 AAAA...")
 * @param fingerprint   its SHA256 fingerprint
 * @param relayRunsCommands whether the relay ran a command for the tunnel's key (it must not); null until checked
 * @param forwards      one entry per forward of the applied spec
 * @param heartbeat     RFC 3339 time of writing; the operator declares the agent stale when it is old
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
        String hostKey,
        String fingerprint,
        Boolean relayRunsCommands,
        List<ForwardReport> forwards,
        String heartbeat) {

    public static final String ANNOTATION = "jumpgate.dev/agent-report";

    public AgentReport withHeartbeat(String time) {
        return new AgentReport(generation, connected, reason, message, connectedSince, reconnects, lastError, hostKey,
                fingerprint, relayRunsCommands, forwards, time);
    }

    public boolean allForwardsBound() {
        return forwards != null && !forwards.isEmpty()
                && forwards.stream().allMatch(f -> f.state() == ForwardState.Bound);
    }
}
