package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** One jump host of spec.relay.via, as the agent last found it, and the line that lets the tunnel's key use it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HopStatus {

    @JsonPropertyDescription("The jump host, as user@host:port.")
    private String host;

    @JsonPropertyDescription("Connected, Failed, or NotReached (an earlier hop failed, or no attempt reported yet).")
    private HopState state;

    @JsonPropertyDescription("SHA256 fingerprint of the host key the jump host presented last.")
    private String fingerprint;

    @JsonPropertyDescription("Why the hop failed, when it did.")
    private String message;

    @JsonPropertyDescription("The line to append to ~user/.ssh/authorized_keys on this jump host: the tunnel's key may "
            + "have it connect to the next hop (or the relay) and to no other destination, with no shell or command. "
            + "Listens are left to the jump host's sshd block (examples/relay/sshd_config.d/jumpgate-jump-host.conf): "
            + "no key option forbids a Unix-socket listen.")
    private String authorizedKey;

    @JsonPropertyDescription("Whether the jump host holds the key to its line, as the agent checks at each login: it "
            + "neither ran a command for the key nor tried a connection the line does not permit. False: install "
            + "authorizedKey there (the condition RelayKeyRestricted says so too).")
    private Boolean keyRestricted;

    public HopStatus() {
    }

    public HopStatus(String host, HopState state, String fingerprint, String message, String authorizedKey) {
        this.host = host;
        this.state = state;
        this.fingerprint = fingerprint;
        this.message = message;
        this.authorizedKey = authorizedKey;
    }

    public String getHost() { return host; }
    public void setHost(String host) { this.host = host; }
    public HopState getState() { return state; }
    public void setState(HopState state) { this.state = state; }
    public String getFingerprint() { return fingerprint; }
    public void setFingerprint(String fingerprint) { this.fingerprint = fingerprint; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
    public String getAuthorizedKey() { return authorizedKey; }
    public void setAuthorizedKey(String authorizedKey) { this.authorizedKey = authorizedKey; }
    public Boolean getKeyRestricted() { return keyRestricted; }
    public void setKeyRestricted(Boolean keyRestricted) { this.keyRestricted = keyRestricted; }

    @Override
    public boolean equals(Object o) {
        return o instanceof HopStatus h && Objects.equals(host, h.host) && state == h.state
                && Objects.equals(fingerprint, h.fingerprint) && Objects.equals(message, h.message)
                && Objects.equals(authorizedKey, h.authorizedKey) && Objects.equals(keyRestricted, h.keyRestricted);
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, state, fingerprint, message, authorizedKey, keyRestricted);
    }
}
