package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.report.AgentReport;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One health check of the agent, as its probes read it (in the shape of MicroProfile Health, which Kubernetes users
 * know from Quarkus and Spring): ready when connected with every forward bound (what the operator shows as Ready),
 * live while its loop runs, started once it runs.
 */
public record AgentHealth(String name, boolean up, Map<String, String> data) {

    public static AgentHealth readiness(TunnelAgent agent) {
        Map<String, String> data = new LinkedHashMap<>();
        AgentReport report = agent == null ? null : agent.report();
        if (report == null) {
            // The HTTP server is up before the agent's first report: an agent process is not ready until then.
            data.put("reason", "starting");
            return new AgentHealth("tunnel", false, data);
        }
        data.put("reason", report.reason());
        data.put("message", report.message());
        report.forwards().forEach(f -> data.put("forward." + f.name(),
                f.state() == ForwardState.Bound ? "Bound on port " + f.remotePort() : f.state() + ": " + f.message()));
        return new AgentHealth("tunnel", report.connected() && report.allForwardsBound(), data);
    }

    public static AgentHealth liveness(TunnelAgent agent) {
        return new AgentHealth("tunnel-loop", agent == null || agent.isRunning(), Map.of());
    }

    public static AgentHealth started(TunnelAgent agent) {
        return new AgentHealth("tunnel-started", agent != null, Map.of());
    }
}
