package dev.jumpgate.operator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** How the operator runs agents; the chart sets these (the image is the operator's own). */
@ConfigMapping(prefix = "jumpgate.agent")
public interface AgentPodConfig {

    /** The image of agent pods: the operator's own image, which runs as an agent when told to. */
    @WithDefault("jumpgate:latest")
    String image();

    @WithDefault("IfNotPresent")
    String imagePullPolicy();

    /** The non-root user the image runs as; also the group that may read the mounted key. */
    @WithDefault("185")
    long runAsUser();

    @WithDefault("10m")
    String cpuRequest();

    @WithDefault("128Mi")
    String memoryRequest();

    @WithDefault("256Mi")
    String memoryLimit();

    /**
     * The memory of a pool's agent pod, fixed whatever its members: a member joins without a restart. The agent's heap
     * and connection budget follow the limit (the image's jvm.options).
     */
    @WithDefault("256Mi")
    String poolMemoryRequest();

    @WithDefault("1Gi")
    String poolMemoryLimit();

    /** A NetworkPolicy per agent pod (AgentNetworkPolicyDependent); it takes effect where the CNI enforces them. */
    @WithDefault("true")
    boolean networkPolicy();
}
