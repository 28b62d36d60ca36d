package dev.jumpgate.agent;

import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ForwardState;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * The agent's health for its probes: ready when connected with every forward bound (what the operator shows as
 * Ready), live while its loop runs. In operator mode there is no agent and both are up.
 */
public final class AgentHealth {

    private AgentHealth() {
    }

    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        @Inject
        AgentRuntime runtime;

        @ConfigProperty(name = "jumpgate.mode", defaultValue = "operator")
        String mode;

        @Override
        public HealthCheckResponse call() {
            HealthCheckResponseBuilder response = HealthCheckResponse.named("tunnel");
            if (!"agent".equals(mode)) {
                return response.up().withData("agent", "none in operator mode").build();
            }
            TunnelAgent agent = runtime.agent();
            if (agent == null) {
                // The HTTP server is up before the agent starts: an agent process is not ready until then.
                return response.down().withData("reason", "starting").build();
            }
            AgentReport report = agent.report();
            if (report == null) {
                return response.down().withData("reason", "starting").build();
            }
            response.withData("reason", report.reason()).withData("message", report.message());
            report.forwards().forEach(f -> response.withData("forward." + f.name(),
                    f.state() == ForwardState.Bound ? "Bound on port " + f.remotePort() : f.state() + ": " + f.message()));
            return response.status(report.connected() && report.allForwardsBound()).build();
        }
    }

    @Liveness
    @ApplicationScoped
    public static class Live implements HealthCheck {
        @Inject
        AgentRuntime runtime;

        @Override
        public HealthCheckResponse call() {
            TunnelAgent agent = runtime.agent();
            return HealthCheckResponse.named("tunnel-loop").status(agent == null || agent.isRunning()).build();
        }
    }
}
