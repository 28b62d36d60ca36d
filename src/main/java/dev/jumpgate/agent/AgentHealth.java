package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.report.AgentReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The health checks of the agent process, as its probes read them (in the shape of MicroProfile Health, which
 * Kubernetes users know from Quarkus and Spring), one per tunnel it serves: ready when every tunnel is connected
 * with every forward bound (what the operator shows as Ready), or when it stands by for another pod of its agent;
 * live while every tunnel's loop runs, started once the process has taken up the tunnels it was given (or stands by).
 */
public record AgentHealth(String name, boolean up, Map<String, String> data) {

    public static List<AgentHealth> readiness(AgentRuntime runtime) {
        Map<String, TunnelAgent> agents = new TreeMap<>(runtime.agents());
        if (runtime.started() && runtime.standingBy()) {
            // A standby is ready when it could take over (it reads the leader Lease): a rollout waits for that
            // before it stops a pod, and one that cannot reach the API server is not it.
            boolean able = runtime.readyToTakeOver(AgentLeadership.READY_WITHIN);
            return List.of(new AgentHealth("tunnels", able, Map.of("reason", able ? "standby"
                    : "standby, but the leader Lease could not be read lately")));
        }
        if (!runtime.started() || agents.isEmpty()) {
            // The HTTP server is up before the agents: a process is not ready until it serves its tunnels.
            return List.of(new AgentHealth("tunnels", false, Map.of("reason", "starting")));
        }
        List<AgentHealth> checks = new ArrayList<>();
        agents.forEach((tunnel, agent) -> checks.add(readiness(tunnel, agent.report())));
        return checks;
    }

    private static AgentHealth readiness(String tunnel, AgentReport report) {
        Map<String, String> data = new LinkedHashMap<>();
        if (report == null) {
            data.put("reason", "starting");
            return new AgentHealth("tunnel " + tunnel, false, data);
        }
        data.put("reason", report.reason());
        data.put("message", report.message());
        report.forwards().forEach(f -> data.put("forward." + f.name(),
                f.state() == ForwardState.Bound ? "Bound on port " + f.remotePort() : f.state() + ": " + f.message()));
        return new AgentHealth("tunnel " + tunnel, report.connected() && report.allForwardsBound(), data);
    }

    public static List<AgentHealth> liveness(AgentRuntime runtime) {
        List<String> stopped = runtime.agents().entrySet().stream().filter(e -> !e.getValue().isRunning())
                .map(Map.Entry::getKey).sorted().toList();
        return List.of(new AgentHealth("tunnel-loops", stopped.isEmpty(),
                stopped.isEmpty() ? Map.of() : Map.of("stopped", String.join(",", stopped))));
    }

    public static List<AgentHealth> started(AgentRuntime runtime) {
        return List.of(new AgentHealth("tunnels-started", runtime.started(), Map.of()));
    }
}
