package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

public class AuthSpec {

    @Required
    @JsonPropertyDescription("A Secret in the tunnel's namespace holding an unencrypted OpenSSH private key (ed25519 recommended).")
    private SecretKeyRef secretRef;

    public SecretKeyRef getSecretRef() { return secretRef; }
    public void setSecretRef(SecretKeyRef secretRef) { this.secretRef = secretRef; }
}
