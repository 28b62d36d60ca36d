package dev.jumpgate.agent;

import java.time.Duration;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ForwardReport;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The tunnels this process serves (the members of its pool in a pod, the files given to the standalone agent), one
 * {@link TunnelAgent} each: what the health checks and metrics read. Each agent has its own thread, session, backoff
 * and report; nothing here is shared between them but the meters' registry. A tunnel's meters carry its name.
 */
public final class AgentRuntime {

    private static final ForwardTraffic NO_TRAFFIC = new ForwardTraffic();

    private final MeterRegistry registry;

    private final Set<List<String>> meteredForwards = new HashSet<>();
    private final Set<String> meteredTunnels = new HashSet<>();
    private final Map<String, TunnelAgent> agents = new ConcurrentHashMap<>();
    /** One memory for all tunnels: their connections share its places and receive windows, each forward promised some. */
    private final ConnectionBudget connections = ConnectionBudget.ofThisJvm();
    private final WindowBudget windows = WindowBudget.ofThisJvm();
    /** All tunnels' asks for listens an older session holds, spread out together. */
    private final HeldListenAsks heldAsks = new HeldListenAsks();

    public AgentRuntime(MeterRegistry registry) {
        this.registry = registry;
        // The heap is sized from the pod's memory limit (the image's jvm.options): near its max is near the limit.
        Gauge.builder("jumpgate.agent.heap.used", Runtime.getRuntime(), rt -> rt.totalMemory() - rt.freeMemory())
                .baseUnit("bytes").description("heap in use").register(registry);
        Gauge.builder("jumpgate.agent.heap.max", Runtime.getRuntime(), Runtime::maxMemory)
                .baseUnit("bytes").description("the most heap the agent may use").register(registry);
        Gauge.builder("jumpgate.agent.connection.budget", connections, ConnectionBudget::max)
                .description("connections all forwards of all tunnels may hold open together, from the agent's memory "
                        + "limit").register(registry);
        Gauge.builder("jumpgate.agent.tunnels", agents, Map::size)
                .description("tunnels this agent process serves").register(registry);
    }

    /** Starts the agent of one tunnel; its reports go to {@code sink} (its Lease, or the log). */
    public synchronized TunnelAgent start(String tunnel, Consumer<AgentReport> sink) {
        if (agents.containsKey(tunnel)) {
            throw new IllegalStateException("an agent already serves " + tunnel + " in this process");
        }
        TunnelAgent agent = new TunnelAgent(report -> {
            meter(tunnel, report);
            sink.accept(report);
        }, connections, windows, this::listensInherited, heldAsks);
        agents.put(tunnel, agent);
        return agent.start();
    }

    /** Stops one tunnel's agent: its forwards are cancelled on the relay and its last report says so. */
    public void stop(String tunnel) {
        TunnelAgent agent = detach(tunnel);
        if (agent != null) {
            agent.close();
        }
    }

    /**
     * Takes one tunnel's agent out of the process's agents, for the caller to close (which may take a while: the
     * relay is told); a new agent for that tunnel may start meanwhile. Null when none serves it.
     */
    public TunnelAgent detach(String tunnel) {
        return agents.remove(tunnel);
    }

    private volatile boolean started;
    private volatile boolean standingBy;
    private volatile long leaderLeaseSeenAt;
    /** When (System.nanoTime) this process took its agent's Lease from a pod that had not let it go; 0: never. */
    private volatile long inheritedAt;

    /** Whether this process stands by for another pod of its agent (AgentLeadership), serving nothing. */
    public void standBy(boolean standingBy) {
        this.standingBy = standingBy;
    }

    public boolean standingBy() {
        return standingBy;
    }

    /** How this process's agents reach their relays (what a standby warms up with). */
    RelayConnector relayConnector() {
        return JschRelaySession.connector(windows);
    }

    /** When (System.nanoTime) this process last read its agent's leader Lease. */
    void sawLeaderLease(long nanoTime) {
        leaderLeaseSeenAt = nanoTime;
    }

    /**
     * This process took its agent's Lease over from a pod that did not let it go (killed, or its node lost): the
     * relay may still hold that pod's listens for a while, and its agents ask for them again quickly meanwhile.
     */
    void inheritListens() {
        inheritedAt = System.nanoTime();
    }

    /** Whether this process took over from a pod that did not let go, within the last {@link TunnelAgent#HELD_LISTEN_PATIENCE}. */
    boolean listensInherited() {
        long at = inheritedAt;
        return at != 0 && System.nanoTime() - at < TunnelAgent.HELD_LISTEN_PATIENCE.toNanos();
    }

    /** Whether it stands by and could take over: it has read the leader Lease within {@code within}. */
    public boolean readyToTakeOver(Duration within) {
        return standingBy && System.nanoTime() - leaderLeaseSeenAt < within.toNanos();
    }

    /** The process has taken up the tunnels it was given (its first pool config, or its files): the startup probe. */
    public void markStarted() {
        started = true;
    }

    public boolean started() {
        return started;
    }

    /** The running agents by tunnel, in no order. */
    public Map<String, TunnelAgent> agents() {
        return Map.copyOf(agents);
    }

    private AgentReport report(String tunnel) {
        TunnelAgent a = agents.get(tunnel);
        return a == null ? null : a.report();
    }

    /**
     * A tunnel's meters appear with its first report, a forward's with the first report that names it, and stay:
     * Prometheus counters never go away. They read through this bean, so they follow the agent of the moment.
     */
    private void meter(String tunnel, AgentReport report) {
        synchronized (meteredForwards) {
            meterOnce(tunnel, report);
        }
    }

    private void meterOnce(String tunnel, AgentReport report) {
        if (meteredTunnels.add(tunnel)) {
            Tags tags = Tags.of("tunnel", tunnel);
            Gauge.builder("jumpgate.agent.connected", this, r -> r.connected(tunnel) ? 1 : 0).tags(tags)
                    .description("1 while the SSH session to the relay is up").register(registry);
            FunctionCounter.builder("jumpgate.agent.reconnects", this,
                            r -> r.report(tunnel) == null ? 0 : r.report(tunnel).reconnects()).tags(tags)
                    .description("sessions to the relay lost and re-established").register(registry);
        }
        for (var forward : report.forwards()) {
            String name = forward.name();
            if (!meteredForwards.add(List.of(tunnel, name))) {
                continue;
            }
            Tags tags = Tags.of("tunnel", tunnel, "forward", name);
            FunctionCounter.builder("jumpgate.agent.forward.bytes", this, r -> r.traffic(tunnel, name).bytesToTarget())
                    .tags(tags.and("direction", "to_target")).baseUnit("bytes")
                    .description("bytes carried through the forward").register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.bytes", this, r -> r.traffic(tunnel, name).bytesFromTarget())
                    .tags(tags.and("direction", "from_target")).baseUnit("bytes")
                    .description("bytes carried through the forward").register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.connections", this, r -> r.traffic(tunnel, name).connections())
                    .tags(tags).description("connections carried through the forward (the end-to-end checks' are "
                            + "counted in jumpgate_agent_forward_checks_total)").register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.refused.connections", this,
                            r -> r.traffic(tunnel, name).refusedConnections())
                    .tags(tags).description("connections refused because the forward held maxConnections, or the agent "
                            + "its budget for all forwards")
                    .register(registry);
            Gauge.builder("jumpgate.agent.forward.open.connections", this, r -> r.traffic(tunnel, name).openConnections())
                    .tags(tags).description("connections open through the forward now").register(registry);
            Gauge.builder("jumpgate.agent.forward.waiting.bytes", this,
                            r -> r.traffic(tunnel, name).bytesWaitingForTargets())
                    .tags(tags).description("bytes from the relay held for targets that have not read them yet")
                    .register(registry);
            Gauge.builder("jumpgate.agent.forward.bound", this, r -> r.bound(tunnel, name).isPresent() ? 1 : 0)
                    .tags(tags).description("1 while the relay listens for the forward").register(registry);
            Gauge.builder("jumpgate.agent.forward.reachable", this, r -> r.reachable(tunnel, name))
                    .tags(tags).description("1 while the forward's last end-to-end check passed, 0 when it failed; "
                            + "NaN before the first check or with the check off").register(registry);
            Gauge.builder("jumpgate.agent.forward.check.latency", this,
                            r -> r.traffic(tunnel, name).checkLatencyMillis() / 1000.0)
                    .tags(tags).baseUnit("seconds").description("round trip of the forward's last passed end-to-end "
                            + "check: relay listen, agent, target's answer").register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.checks", this, r -> r.traffic(tunnel, name).checksPassed())
                    .tags(tags.and("result", "passed")).description("end-to-end checks of the forward")
                    .register(registry);
            FunctionCounter.builder("jumpgate.agent.forward.checks", this, r -> r.traffic(tunnel, name).checksFailed())
                    .tags(tags.and("result", "failed")).description("end-to-end checks of the forward")
                    .register(registry);
        }
    }

    private boolean connected(String tunnel) {
        AgentReport r = report(tunnel);
        return r != null && r.connected();
    }

    private double reachable(String tunnel, String forward) {
        return bound(tunnel, forward).filter(f -> f.check() != null).map(f -> f.check().reachable() ? 1.0 : 0.0)
                .orElse(Double.NaN);
    }

    /** Bytes carried through all forwards of all tunnels, both ways, since the agents started. */
    long bytesCarried() {
        return agents.values().stream().flatMap(a -> a.traffic().values().stream())
                .mapToLong(t -> t.bytesToTarget() + t.bytesFromTarget()).sum();
    }

    private ForwardTraffic traffic(String tunnel, String forward) {
        TunnelAgent a = agents.get(tunnel);
        return a == null ? NO_TRAFFIC : a.traffic().getOrDefault(forward, NO_TRAFFIC);
    }

    /** The forward as the latest report has it, while the relay listens for it. */
    private Optional<ForwardReport> bound(String tunnel, String forward) {
        AgentReport r = report(tunnel);
        return r == null ? Optional.empty() : r.forwards().stream()
                .filter(f -> f.name().equals(forward) && f.state() == ForwardState.Bound).findFirst();
    }

    /**
     * Stops every agent, each cancelling its forwards. Without this bean's lock: a stopping agent's last report
     * passes through it.
     */
    public void stop() {
        agents.keySet().forEach(this::stop);
    }
}
