package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** A condition as Kubernetes API conventions define it (metav1.Condition), with its fields described. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TunnelCondition {

    @JsonPropertyDescription("Ready or Connected.")
    private String type;

    @JsonPropertyDescription("True, False or Unknown.")
    private String status;

    @JsonPropertyDescription("Why, in one CamelCase word a program can match on.")
    private String reason;

    @JsonPropertyDescription("Why, for a person.")
    private String message;

    @JsonPropertyDescription("When status, reason or message last changed (RFC 3339).")
    private String lastTransitionTime;

    @JsonPropertyDescription("The generation of the spec the condition was set for.")
    private Long observedGeneration;

    public TunnelCondition() {
    }

    public TunnelCondition(String type, String status, String reason, String message, String lastTransitionTime,
            Long observedGeneration) {
        this.type = type;
        this.status = status;
        this.reason = reason;
        this.message = message;
        this.lastTransitionTime = lastTransitionTime;
        this.observedGeneration = observedGeneration;
    }

    public String getType() { return type; }
    public void setType(String type) { this.type = type; }
    public String getStatus() { return status; }
    public void setStatus(String status) { this.status = status; }
    public String getReason() { return reason; }
    public void setReason(String reason) { this.reason = reason; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
    public String getLastTransitionTime() { return lastTransitionTime; }
    public void setLastTransitionTime(String lastTransitionTime) { this.lastTransitionTime = lastTransitionTime; }
    public Long getObservedGeneration() { return observedGeneration; }
    public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }

    /** Same status, reason and message: the same fact, whatever its timestamps say. */
    public boolean saysTheSameAs(TunnelCondition other) {
        return other != null && Objects.equals(status, other.status) && Objects.equals(reason, other.reason)
                && Objects.equals(message, other.message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TunnelCondition c && Objects.equals(type, c.type) && saysTheSameAs(c)
                && Objects.equals(lastTransitionTime, c.lastTransitionTime)
                && Objects.equals(observedGeneration, c.observedGeneration);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, status, reason, message, lastTransitionTime, observedGeneration);
    }

    @Override
    public String toString() {
        return type + "=" + status + " (" + reason + ": " + message + ")";
    }
}
