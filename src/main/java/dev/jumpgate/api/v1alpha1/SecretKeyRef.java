package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

public class SecretKeyRef {

    public static final String DEFAULT_KEY = "ssh-privatekey";

    @Required
    @Size(min = 1, max = 253)
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    @JsonPropertyDescription("Name of the Secret.")
    private String name;

    @Default(DEFAULT_KEY)
    @Size(min = 1, max = 253)
    @Pattern("^[-._a-zA-Z0-9]+$")
    @JsonPropertyDescription("The data key holding the private key; ssh-privatekey as in kubernetes.io/ssh-auth Secrets.")
    private String key = DEFAULT_KEY;

    @Size(min = 1, max = 253)
    @Pattern("^[-._a-zA-Z0-9]+$")
    @JsonPropertyDescription("The data key holding an OpenSSH certificate for the key (a -cert.pub line, as ssh-keygen -s, "
            + "Vault's SSH engine or step-ca issue it), when the relay trusts a user CA (TrustedUserCAKeys) rather than "
            + "the key itself. The agent offers it first; a renewed certificate in the Secret is used at the next login, "
            + "the session up stays. Its principal must be the tunnel's (status.authorizedPrincipal).")
    private String certificateKey;

    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
    public String getKey() { return key; }
    public void setKey(String key) { this.key = key; }
    public String getCertificateKey() { return certificateKey; }
    public void setCertificateKey(String certificateKey) { this.certificateKey = certificateKey; }
}
