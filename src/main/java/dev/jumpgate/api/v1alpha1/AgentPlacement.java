package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Which agent serves the tunnel. By default every tunnel of a namespace shares the pool {@value #DEFAULT_POOL}: one
 * agent pod whose process holds each member's SSH session apart (its own session, key, backoff and report), so the
 * hundredth tunnel costs megabytes, not a JVM. A named pool groups tunnels that belong together; {@code dedicated}
 * gives a tunnel a pod of its own (its own memory limit, restarts and NetworkPolicy).
 */
@ValidationRule(value = "!(has(self.pool) && has(self.dedicated) && self.dedicated)",
        message = "a dedicated agent belongs to no pool: set pool or dedicated, not both")
public class AgentPlacement {

    public static final String DEFAULT_POOL = "default";

    @Size(min = 1, max = 40)
    @Pattern(ForwardSpec.NAME_PATTERN)
    @JsonPropertyDescription("The agent pool of the tunnel's namespace that serves it (created when its first member "
            + "appears, removed with its last). Absent: \"" + DEFAULT_POOL + "\". A pool never spans namespaces.")
    private String pool;

    @JsonPropertyDescription("true: the tunnel gets an agent pod of its own instead of a place in a pool.")
    private Boolean dedicated;

    @Min(1)
    @Max(3)
    @JsonPropertyDescription("How many pods the tunnel's agent runs (absent: 1). One serves; the others stand by, "
            + "ready, and one of them takes over within seconds when it stops (a rollout, a drain: at once) or dies "
            + "(its leader Lease unrenewed for 4 s); never two at once. A pool runs as many as the most any member "
            + "asks for.")
    private Integer replicas;

    public String getPool() { return pool; }
    public void setPool(String pool) { this.pool = pool; }
    public Boolean getDedicated() { return dedicated; }
    public void setDedicated(Boolean dedicated) { this.dedicated = dedicated; }

    /** The pool the tunnel joins: the named one, or the namespace's default. Meaningless when dedicated. */
    public String poolName() {
        return pool == null ? DEFAULT_POOL : pool;
    }

    public Integer getReplicas() { return replicas; }
    public void setReplicas(Integer replicas) { this.replicas = replicas; }

    /** The pods asked for: 1 unless set. */
    public int replicaCount() {
        return replicas == null ? 1 : replicas;
    }

    /** Whether the tunnel asked for a pod of its own (not a bean getter: the schema's field is {@code dedicated}). */
    public boolean dedicated() {
        return Boolean.TRUE.equals(dedicated);
    }
}
