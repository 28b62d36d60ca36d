package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** The agent that serves the tunnel, as the operator handed the tunnel to it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AgentStatus {

    @JsonPropertyDescription("The pool whose agent serves the tunnel; absent for a dedicated agent.")
    private String pool;

    @JsonPropertyDescription("The agent's Deployment (its pods carry the label jumpgate.dev/agent with this name).")
    private String deployment;

    @JsonPropertyDescription("The version (uid:resourceVersion) of the key Secret the agent was given: a new one makes it "
            + "read the key again and reconnect with it. Absent while the key cannot be used.")
    private String keyVersion;

    public AgentStatus() {
    }

    public AgentStatus(String pool, String deployment, String keyVersion) {
        this.pool = pool;
        this.deployment = deployment;
        this.keyVersion = keyVersion;
    }

    public String getPool() { return pool; }
    public void setPool(String pool) { this.pool = pool; }
    public String getDeployment() { return deployment; }
    public void setDeployment(String deployment) { this.deployment = deployment; }
    public String getKeyVersion() { return keyVersion; }
    public void setKeyVersion(String keyVersion) { this.keyVersion = keyVersion; }

    @Override
    public boolean equals(Object o) {
        return o instanceof AgentStatus a && Objects.equals(pool, a.pool) && Objects.equals(deployment, a.deployment)
                && Objects.equals(keyVersion, a.keyVersion);
    }

    @Override
    public int hashCode() {
        return Objects.hash(pool, deployment, keyVersion);
    }
}
