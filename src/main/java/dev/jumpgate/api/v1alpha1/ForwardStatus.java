package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ForwardStatus {

    @JsonPropertyDescription("The forward's name in the spec.")
    private String name;

    @JsonPropertyDescription("The address the relay listens on.")
    private String remoteBindAddress;

    @JsonPropertyDescription("The port the relay listens on: the one asked for, or the one it allocated for port 0.")
    private Integer remotePort;

    @JsonPropertyDescription("host:port the agent connects to.")
    private String target;

    @JsonPropertyDescription("Bound: the relay listens. Pending: not bound yet. Failed: the relay refused; retried.")
    private ForwardState state;

    @JsonPropertyDescription("Why the forward is in this state, in one word.")
    private String reason;

    @JsonPropertyDescription("Why the forward is in this state, for a person.")
    private String message;

    @JsonPropertyDescription("How a laptop reaches the target through the relay, e.g. ssh -p 4040 user@relay.example.com.")
    private String endpoint;

    @JsonPropertyDescription("Connections the agent refused because the forward held maxConnections, since the agent "
            + "started (refreshed at most every 30 s); absent while none were.")
    private Long refusedConnections;

    @JsonPropertyDescription("Whether the last end-to-end check passed: a connection made on the relay to this "
            + "forward's listen came through the agent to the target, and the target answered as spec.forwards[].check "
            + "expects. False: reason says where the path broke. Absent: not checked yet, or the check is None.")
    private Boolean reachable;

    @JsonPropertyDescription("When the last end-to-end check finished (RFC 3339).")
    private String lastCheckTime;

    @JsonPropertyDescription("The last check's round trip in milliseconds: from asking the relay for the connection to "
            + "the target's answer coming back through it.")
    private Long latencyMillis;

    @JsonPropertyDescription("Where the last check found the relay listening: the listen asked for (the relay's own "
            + "address for a wildcard bindAddress), or localhost when the relay bound it to its loopback only.")
    private String listeningOn;

    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
    public String getRemoteBindAddress() { return remoteBindAddress; }
    public void setRemoteBindAddress(String remoteBindAddress) { this.remoteBindAddress = remoteBindAddress; }
    public Integer getRemotePort() { return remotePort; }
    public void setRemotePort(Integer remotePort) { this.remotePort = remotePort; }
    public String getTarget() { return target; }
    public void setTarget(String target) { this.target = target; }
    public ForwardState getState() { return state; }
    public void setState(ForwardState state) { this.state = state; }
    public String getReason() { return reason; }
    public void setReason(String reason) { this.reason = reason; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
    public String getEndpoint() { return endpoint; }
    public void setEndpoint(String endpoint) { this.endpoint = endpoint; }
    public Long getRefusedConnections() { return refusedConnections; }
    public void setRefusedConnections(Long refusedConnections) { this.refusedConnections = refusedConnections; }
    public Boolean getReachable() { return reachable; }
    public void setReachable(Boolean reachable) { this.reachable = reachable; }
    public String getLastCheckTime() { return lastCheckTime; }
    public void setLastCheckTime(String lastCheckTime) { this.lastCheckTime = lastCheckTime; }
    public Long getLatencyMillis() { return latencyMillis; }
    public void setLatencyMillis(Long latencyMillis) { this.latencyMillis = latencyMillis; }
    public String getListeningOn() { return listeningOn; }
    public void setListeningOn(String listeningOn) { this.listeningOn = listeningOn; }

    @Override
    public boolean equals(Object o) {
        return o instanceof ForwardStatus f && Objects.equals(name, f.name)
                && Objects.equals(remoteBindAddress, f.remoteBindAddress) && Objects.equals(remotePort, f.remotePort)
                && Objects.equals(target, f.target) && state == f.state && Objects.equals(reason, f.reason)
                && Objects.equals(message, f.message) && Objects.equals(endpoint, f.endpoint)
                && Objects.equals(refusedConnections, f.refusedConnections) && Objects.equals(reachable, f.reachable)
                && Objects.equals(lastCheckTime, f.lastCheckTime) && Objects.equals(latencyMillis, f.latencyMillis)
                && Objects.equals(listeningOn, f.listeningOn);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, remoteBindAddress, remotePort, target, state, reason, message, endpoint,
                refusedConnections, reachable, lastCheckTime, latencyMillis, listeningOn);
    }
}
