package dev.jumpgate.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The last end-to-end check of a bound forward, as the agent tells it; the forward's reason and message say why it
 * failed.
 *
 * @param reachable     whether the connection made on the relay came through the agent to the target, answered
 * @param finishedAt    RFC 3339 time the check ended
 * @param latencyMillis from asking the relay for the connection to the target's answer arriving; 0 when it failed
 * @param listeningOn   host:port where the check found the relay listening; null when it found no listener
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record CheckReport(boolean reachable, String finishedAt, long latencyMillis, String listeningOn) {

    CheckReport sanitized() {
        return new CheckReport(reachable, ReportText.bounded(finishedAt, 64), Math.max(0, latencyMillis),
                ReportText.bounded(listeningOn, 260));
    }
}
