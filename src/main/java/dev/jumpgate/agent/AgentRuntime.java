package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ForwardReport;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The agent of this process (in a pod, or standalone): what its health checks and metrics read. The meters are
 * registered once and read through it, so they follow the agent of the moment.
 */
public final class AgentRuntime {

    private static final ForwardTraffic NO_TRAFFIC = new ForwardTraffic();

    private final MeterRegistry registry;

    private final Set<String> meteredForwards = new HashSet<>();
    private volatile TunnelAgent agent;

    public AgentRuntime(MeterRegistry registry) {
        this.registry = registry;
        // The heap is sized from the pod's memory limit (the image's jvm.options): near its max is near the limit.
        Gauge.builder("jumpgate.agent.heap.used", Runtime.getRuntime(), rt -> rt.totalMemory() - rt.freeMemory())
                .baseUnit("bytes").description("heap in use").register(registry);
        Gauge.builder("jumpgate.agent.heap.max", Runtime.getRuntime(), Runtime::maxMemory)
                .baseUnit("bytes").description("the most heap the agent may use").register(registry);
        Gauge.builder("jumpgate.agent.connected", this, r -> r.connected() ? 1 : 0)
                .description("1 while the SSH session to the relay is up").register(registry);
        Gauge.builder("jumpgate.agent.connection.budget", this, r -> r.agent == null ? 0 : r.agent.connectionBudget())
                .description("connections all forwards may hold open together, from the agent's memory limit")
                .register(registry);
        FunctionCounter.builder("jumpgate.agent.reconnects", this, r -> r.report() == null ? 0 : r.report().reconnects())
                .description("sessions to the relay lost and re-established").register(registry);
    }

    /** Starts the agent; its reports go to {@code sink} (the Lease, or the log). */
    public synchronized TunnelAgent start(Consumer<AgentReport> sink) {
        if (agent != null) {
            throw new IllegalStateException("an agent already runs in this process");
        }
        agent = new TunnelAgent(report -> {
            meter(report);
            sink.accept(report);
        });
        return agent.start();
    }

    /** The running agent, or null before it starts. */
    public TunnelAgent agent() {
        return agent;
    }

    private AgentReport report() {
        TunnelAgent a = agent;
        return a == null ? null : a.report();
    }

    private boolean connected() {
        AgentReport r = report();
        return r != null && r.connected();
    }

    /**
     * Meters appear with the first report that names a forward, and stay: Prometheus counters never go away. They
     * read through this bean, so they follow the agent of the moment.
     */
    private synchronized void meter(AgentReport report) {
        for (var forward : report.forwards()) {
            String name = forward.name();
            if (!meteredForwards.add(name)) {
                continue;
            }
            Tags tags = Tags.of("forward", name);
            FunctionCounter.builder("jumpgate.agent.forward.bytes", this, r -> r.traffic(name).bytesToTarget())
                    .tags(tags.and("direction", "to_target")).baseUnit("bytes")
                    .description("bytes carried through the forward").register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.bytes", this, r -> r.traffic(name).bytesFromTarget())
                    .tags(tags.and("direction", "from_target")).baseUnit("bytes")
                    .description("bytes carried through the forward").register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.connections", this, r -> r.traffic(name).connections())
                    .tags(tags).description("connections carried through the forward (the end-to-end checks' are "
                            + "counted in jumpgate_agent_forward_checks_total)").register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.refused.connections", this,
                            r -> r.traffic(name).refusedConnections())
                    .tags(tags).description("connections refused because the forward held maxConnections, or the agent "
                            + "its budget for all forwards")
                    .register(registry);
            Gauge.builder("jumpgate.agent.forward.open.connections", this, r -> r.traffic(name).openConnections())
                    .tags(tags).description("connections open through the forward now").register(registry);
            Gauge.builder("jumpgate.agent.forward.waiting.bytes", this, r -> r.traffic(name).bytesWaitingForTargets())
                    .tags(tags).description("bytes from the relay held for targets that have not read them yet")
                    .register(registry);
            Gauge.builder("jumpgate.agent.forward.bound", this, r -> r.bound(name).isPresent() ? 1 : 0)
                    .tags(tags).description("1 while the relay listens for the forward").register(registry);
            Gauge.builder("jumpgate.agent.forward.reachable", this, r -> r.reachable(name))
                    .tags(tags).description("1 while the forward's last end-to-end check passed, 0 when it failed; "
                            + "NaN before the first check or with the check off").register(registry);
            Gauge.builder("jumpgate.agent.forward.check.latency", this,
                            r -> r.traffic(name).checkLatencyMillis() / 1000.0)
                    .tags(tags).baseUnit("seconds").description("round trip of the forward's last passed end-to-end "
                            + "check: relay listen, agent, target's answer").register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.checks", this, r -> r.traffic(name).checksPassed())
                    .tags(tags.and("result", "passed")).description("end-to-end checks of the forward")
                    .register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.checks", this, r -> r.traffic(name).checksFailed())
                    .tags(tags.and("result", "failed")).description("end-to-end checks of the forward")
                    .register(registry);
        }
    }

    private double reachable(String forward) {
        return bound(forward).filter(f -> f.check() != null).map(f -> f.check().reachable() ? 1.0 : 0.0)
                .orElse(Double.NaN);
    }

    /** Bytes carried through all forwards, both ways, since the agent started. */
    long bytesCarried() {
        TunnelAgent a = agent;
        return a == null ? 0 : a.traffic().values().stream().mapToLong(t -> t.bytesToTarget() + t.bytesFromTarget()).sum();
    }

    private ForwardTraffic traffic(String forward) {
        TunnelAgent a = agent;
        return a == null ? NO_TRAFFIC : a.traffic().getOrDefault(forward, NO_TRAFFIC);
    }

    /** The forward as the latest report has it, while the relay listens for it. */
    private Optional<ForwardReport> bound(String forward) {
        AgentReport r = report();
        return r == null ? Optional.empty() : r.forwards().stream()
                .filter(f -> f.name().equals(forward) && f.state() == ForwardState.Bound).findFirst();
    }

    public synchronized void stop() {
        if (agent != null) {
            agent.close();
            agent = null;
        }
    }
}
