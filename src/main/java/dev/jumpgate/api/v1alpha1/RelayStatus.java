package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class RelayStatus {

    @JsonPropertyDescription("With spec.fallbackRelays: the relay that holds the tunnel (user@host:port), or that the "
            + "agent tries next while none does. The host key, version and forwards' ports below are that relay's.")
    private String active;

    @JsonPropertyDescription("With spec.fallbackRelays, while the preferred relay (spec.relay) does not hold the tunnel: "
            + "why, and what the last try to move back found.")
    private String failover;

    @JsonPropertyDescription("One entry per relay of spec.fallbackRelays, in order, with the authorized_keys line the "
            + "tunnel's key needs there.")
    private List<FallbackRelayStatus> fallbacks;

    @JsonPropertyDescription("The host key the relay presented last (\"ssh-ed25519 AAAA...\").")
    private String hostKey;

    @JsonPropertyDescription("With hostKeyPolicy AcceptNew and no hostKeys: the first key the relay presented, required "
            + "from then on. To trust a new key, pin it in spec.relay.hostKeys.")
    private String acceptedHostKey;

    @JsonPropertyDescription("SHA256 fingerprint of hostKey, as ssh-keygen -lf prints it.")
    private String fingerprint;

    @JsonPropertyDescription("When the current session to the relay came up (RFC 3339).")
    private String connectedSince;

    @JsonPropertyDescription("Sessions lost and re-established since the agent started.")
    private Integer reconnects;

    @JsonPropertyDescription("The last failure to reach, or stay connected to, the relay.")
    private String lastError;

    @JsonPropertyDescription("The relay's SSH identification string as it sent it (e.g. SSH-2.0-OpenSSH_9.2p1 Debian-2).")
    private String sshVersion;

    @JsonPropertyDescription("One entry per jump host of spec.relay.via, in order: its state at the agent's last "
            + "connection attempt, and the authorized_keys line it needs for the tunnel's key.")
    private List<HopStatus> hops;

    public String getActive() { return active; }
    public void setActive(String active) { this.active = active; }
    public String getFailover() { return failover; }
    public void setFailover(String failover) { this.failover = failover; }
    public List<FallbackRelayStatus> getFallbacks() { return fallbacks; }
    public void setFallbacks(List<FallbackRelayStatus> fallbacks) { this.fallbacks = fallbacks; }
    public String getHostKey() { return hostKey; }
    public void setHostKey(String hostKey) { this.hostKey = hostKey; }
    public String getAcceptedHostKey() { return acceptedHostKey; }
    public void setAcceptedHostKey(String acceptedHostKey) { this.acceptedHostKey = acceptedHostKey; }
    public String getFingerprint() { return fingerprint; }
    public void setFingerprint(String fingerprint) { this.fingerprint = fingerprint; }
    public String getConnectedSince() { return connectedSince; }
    public void setConnectedSince(String connectedSince) { this.connectedSince = connectedSince; }
    public Integer getReconnects() { return reconnects; }
    public void setReconnects(Integer reconnects) { this.reconnects = reconnects; }
    public String getLastError() { return lastError; }
    public void setLastError(String lastError) { this.lastError = lastError; }
    public String getSshVersion() { return sshVersion; }
    public void setSshVersion(String sshVersion) { this.sshVersion = sshVersion; }
    public List<HopStatus> getHops() { return hops; }
    public void setHops(List<HopStatus> hops) { this.hops = hops; }

    @Override
    public boolean equals(Object o) {
        return o instanceof RelayStatus r && Objects.equals(active, r.active) && Objects.equals(failover, r.failover)
                && Objects.equals(fallbacks, r.fallbacks)
                && Objects.equals(hostKey, r.hostKey)
                && Objects.equals(acceptedHostKey, r.acceptedHostKey) && Objects.equals(fingerprint, r.fingerprint)
                && Objects.equals(connectedSince, r.connectedSince) && Objects.equals(reconnects, r.reconnects)
                && Objects.equals(lastError, r.lastError) && Objects.equals(sshVersion, r.sshVersion)
                && Objects.equals(hops, r.hops);
    }

    @Override
    public int hashCode() {
        return Objects.hash(active, failover, fallbacks, hostKey, acceptedHostKey, fingerprint, connectedSince, reconnects, lastError, sshVersion, hops);
    }
}
