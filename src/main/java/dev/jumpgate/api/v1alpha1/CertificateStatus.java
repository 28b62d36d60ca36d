package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Objects;

/** What the agent's SSH user certificate says of itself: the operator's, or the one in the user's Secret. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CertificateStatus {

    @JsonPropertyDescription("Operator: issued by the operator's user CA and renewed by it; Secret: the certificate in "
            + "spec.auth.secretRef's Secret under certificateKey, which its owner renews.")
    private String issuer;

    @JsonPropertyDescription("The certificate's key id, which the relay logs at each login with it.")
    private String keyId;

    @JsonPropertyDescription("Its serial number.")
    private String serial;

    @JsonPropertyDescription("The principals it is valid for; the relay's AuthorizedPrincipalsFile line "
            + "(status.authorizedPrincipal) names the tunnel's.")
    private List<String> principals;

    @JsonPropertyDescription("Not valid before this time (RFC 3339).")
    private String validAfter;

    @JsonPropertyDescription("Not valid from this time on (RFC 3339); a relay refuses it then.")
    private String validBefore;

    @JsonPropertyDescription("With issuer Operator: when the operator issues the next one (half its validity); the "
            + "agent logs in with it from its next login, the session it holds stays up.")
    private String renewAfter;

    @JsonPropertyDescription("The SHA-256 fingerprint of the CA key that signed it, as ssh-keygen -l prints it: the "
            + "relay's TrustedUserCAKeys must hold that key.")
    private String authority;

    public String getIssuer() { return issuer; }
    public void setIssuer(String issuer) { this.issuer = issuer; }
    public String getKeyId() { return keyId; }
    public void setKeyId(String keyId) { this.keyId = keyId; }
    public String getSerial() { return serial; }
    public void setSerial(String serial) { this.serial = serial; }
    public List<String> getPrincipals() { return principals; }
    public void setPrincipals(List<String> principals) { this.principals = principals; }
    public String getValidAfter() { return validAfter; }
    public void setValidAfter(String validAfter) { this.validAfter = validAfter; }
    public String getValidBefore() { return validBefore; }
    public void setValidBefore(String validBefore) { this.validBefore = validBefore; }
    public String getRenewAfter() { return renewAfter; }
    public void setRenewAfter(String renewAfter) { this.renewAfter = renewAfter; }
    public String getAuthority() { return authority; }
    public void setAuthority(String authority) { this.authority = authority; }

    @Override
    public boolean equals(Object o) {
        return o instanceof CertificateStatus c && Objects.equals(issuer, c.issuer) && Objects.equals(keyId, c.keyId)
                && Objects.equals(serial, c.serial) && Objects.equals(principals, c.principals)
                && Objects.equals(validAfter, c.validAfter) && Objects.equals(validBefore, c.validBefore)
                && Objects.equals(renewAfter, c.renewAfter) && Objects.equals(authority, c.authority);
    }

    @Override
    public int hashCode() {
        return Objects.hash(issuer, keyId, serial, principals, validAfter, validBefore, renewAfter, authority);
    }
}
