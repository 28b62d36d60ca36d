package dev.jumpgate.operator.status;

import dev.jumpgate.api.v1alpha1.CertificateStatus;
import dev.jumpgate.report.AgentReport;
import java.time.Instant;
import java.util.List;

/**
 * Everything the operator knows about one tunnel at one reconcile, gathered from the cluster; the status is a
 * function of it ({@link StatusAggregator}).
 *
 * @param specProblems  what is wrong with the spec; empty when valid
 * @param handOverProblem why the tunnel is not handed to an agent: its key cannot be used (a missing Secret or data
 *                      key, not a usable key) or its agent's list has no room; null when it is handed over
 * @param publicKey     the public half of the agent's key, when known
 * @param agentDeployedAt when the tunnel was handed to an agent (its Lease created); null until then
 * @param report        the agent's last report from its Lease, or null
 * @param now           the time of this reconcile
 * @param certificate   the agent's user certificate as it says of itself, or null when it has none
 */
public record TunnelObservation(
        List<String> specProblems,
        HandOverProblem handOverProblem,
        String publicKey,
        Instant agentDeployedAt,
        AgentReport report,
        Instant now,
        CertificateStatus certificate) {

    /** Without a certificate. */
    public TunnelObservation(List<String> specProblems, HandOverProblem handOverProblem, String publicKey,
            Instant agentDeployedAt, AgentReport report, Instant now) {
        this(specProblems, handOverProblem, publicKey, agentDeployedAt, report, now, null);
    }

    /** Why the agent is not given the tunnel: {@code reason} is SecretMissing, KeyInvalid or PoolFull. */
    public record HandOverProblem(String reason, String message) {
    }

    /** The same, with a problem met while handing the tunnel over. */
    public TunnelObservation with(HandOverProblem problem) {
        return new TunnelObservation(specProblems, problem, publicKey, agentDeployedAt, report, now, certificate);
    }
}
