package dev.jumpgate.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.jumpgate.api.v1alpha1.ForwardState;

/**
 * One forward as the agent holds it.
 *
 * @param remotePort the port the relay listens on: the requested one, or the one it allocated for port 0; 0 while not bound
 * @param refusedConnections connections refused at the forward's cap since the agent started; refreshed at most
 *                   every heartbeat, so that a flood of connections does not become a flood of Lease writes
 * @param check      the last end-to-end check while bound; null before the first one, or when the check is off
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ForwardReport(
        String name,
        String bindAddress,
        int requestedPort,
        int remotePort,
        String target,
        ForwardState state,
        String reason,
        String message,
        long refusedConnections,
        CheckReport check) {

    public ForwardReport(String name, String bindAddress, int requestedPort, int remotePort, String target,
            ForwardState state, String reason, String message) {
        this(name, bindAddress, requestedPort, remotePort, target, state, reason, message, 0, null);
    }
}
