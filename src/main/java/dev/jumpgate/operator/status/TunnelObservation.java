package dev.jumpgate.operator.status;

import dev.jumpgate.report.AgentReport;
import java.time.Instant;
import java.util.List;

/**
 * Everything the operator knows about one tunnel at one reconcile, gathered from the cluster; the status is a
 * function of it ({@link StatusAggregator}).
 *
 * @param specProblems  what is wrong with the spec; empty when valid
 * @param keyProblem    why the agent's key cannot be used (a missing Secret or data key, not a usable key); null
 *                      when it can
 * @param publicKey     the public half of the agent's key, when known
 * @param agentDeployedAt when the tunnel was handed to an agent (its Lease created); null until then
 * @param report        the agent's last report from its Lease, or null
 * @param now           the time of this reconcile
 */
public record TunnelObservation(
        List<String> specProblems,
        KeyProblem keyProblem,
        String publicKey,
        Instant agentDeployedAt,
        AgentReport report,
        Instant now) {

    /** Why the agent cannot be given its key: {@code reason} is SecretMissing or KeyInvalid. */
    public record KeyProblem(String reason, String message) {
    }
}
