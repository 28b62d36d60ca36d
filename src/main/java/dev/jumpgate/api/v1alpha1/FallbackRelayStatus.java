package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** One relay of spec.fallbackRelays and the line that lets the tunnel's key hold the tunnel there. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FallbackRelayStatus {

    @JsonPropertyDescription("The fallback relay, as user@host:port.")
    private String relay;

    @JsonPropertyDescription("The line to append to ~user/.ssh/authorized_keys on this fallback relay: status.authorizedKey "
            + "with the end-to-end check's connections permitted to this relay's own name.")
    private String authorizedKey;

    @JsonPropertyDescription("With spec.auth.secretRef.certificateKey: the AuthorizedPrincipalsFile line on this relay.")
    private String authorizedPrincipal;

    public FallbackRelayStatus() {
    }

    public FallbackRelayStatus(String relay, String authorizedKey) {
        this.relay = relay;
        this.authorizedKey = authorizedKey;
    }

    public String getRelay() { return relay; }
    public void setRelay(String relay) { this.relay = relay; }
    public String getAuthorizedKey() { return authorizedKey; }
    public void setAuthorizedKey(String authorizedKey) { this.authorizedKey = authorizedKey; }
    public String getAuthorizedPrincipal() { return authorizedPrincipal; }
    public void setAuthorizedPrincipal(String authorizedPrincipal) { this.authorizedPrincipal = authorizedPrincipal; }

    @Override
    public boolean equals(Object o) {
        return o instanceof FallbackRelayStatus f && Objects.equals(relay, f.relay)
                && Objects.equals(authorizedKey, f.authorizedKey)
                && Objects.equals(authorizedPrincipal, f.authorizedPrincipal);
    }

    @Override
    public int hashCode() {
        return Objects.hash(relay, authorizedKey, authorizedPrincipal);
    }
}
