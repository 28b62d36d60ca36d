package dev.jumpgate.contract;

import java.time.Duration;

/**
 * What the operator and the agent in the pod it creates agree on, written once: the operator writes the agent's
 * environment and probes from these names and reads the agent's Lease with these expectations; the agent reads its
 * environment and writes its Lease with the same. The report itself is {@code dev.jumpgate.report.AgentReport}; the
 * reasons both sides write are {@code dev.jumpgate.api.v1alpha1.Reasons}. {@code AgentContractTest} fails when a
 * value written here appears as a literal anywhere else in the sources, or when one side stops using it.
 */
public final class AgentContract {

    /** Which process the image starts: the operator's (default) or, with this set to {@link #AGENT_MODE}, the agent. */
    public static final String MODE_ENV = "JUMPGATE_MODE";
    public static final String AGENT_MODE = "agent";
    /** The agent's namespace (from the pod's own) and the Secret that lists the tunnels it serves ({@link PoolConfig}). */
    public static final String NAMESPACE_ENV = "JUMPGATE_NAMESPACE";
    public static final String POOL_CONFIG_ENV = "JUMPGATE_POOL_CONFIG";
    /**
     * The Lease the agent's pods elect the one that serves by (spec.agent.replicas above 1: the others stand by),
     * made by the operator. Unset: the pod serves at once, alone.
     */
    public static final String LEADER_LEASE_ENV = "JUMPGATE_LEADER_LEASE";
    /** The data key of that Secret that holds the {@link PoolConfig} as JSON. */
    public static final String POOL_CONFIG_KEY = "pool.json";

    /** The agent's health and metrics port in its pod (the container's port named "http"; the probes use it). */
    public static final int HTTP_PORT = 8080;

    /** The Lease annotation that carries the agent's report (AgentReport as JSON). */
    public static final String REPORT_ANNOTATION = "jumpgate.dev/agent-report";
    /** The agent rewrites its report at least this often, changed or not. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(30);
    /** Three heartbeats missed: the operator calls the report stale (the agent is gone or hung); the Lease's duration. */
    public static final Duration STALE_AFTER = HEARTBEAT.multipliedBy(3);

    private AgentContract() {
    }
}
