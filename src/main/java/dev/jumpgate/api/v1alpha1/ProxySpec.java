package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * The egress proxy the agent's first connection goes through (to the first jump host, or to the relay), for clusters
 * that reach the Internet only through one. What goes through it is the SSH session, encrypted end to end: the proxy
 * sees where the agent connects, never what it says.
 */
public class ProxySpec {

    /**
     * The annotation by which a Secret's owner says which proxies its credentials may be sent to: host:port, several
     * separated by commas, exactly as spec.relay.proxy names them (see credentialsSecret).
     */
    public static final String CREDENTIALS_FOR = "jumpgate.dev/proxy-for";

    @Required
    @JsonPropertyDescription("HTTPConnect (an HTTP proxy, CONNECT method) or SOCKS5.")
    private ProxyType type;

    @Required
    @Size(min = 1, max = 253)
    @Pattern(RelaySpec.HOST_PATTERN)
    @JsonPropertyDescription("Host name or IP address of the proxy.")
    private String host;

    @Required
    @Min(1)
    @Max(65535)
    @JsonPropertyDescription("TCP port of the proxy (often 3128 or 8080 for HTTP, 1080 for SOCKS5).")
    private Integer port;

    @Size(min = 1, max = 253)
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    @JsonPropertyDescription("A Secret of type kubernetes.io/basic-auth in the tunnel's namespace with the proxy's "
            + "username and password, annotated jumpgate.dev/proxy-for with this proxy's host:port (several separated "
            + "by commas): its owner says where the password may go, so a tunnel cannot send it, or any other "
            + "password of the namespace, to a host of its choosing. Omit it for a proxy that asks for none.")
    private String credentialsSecret;

    public ProxySpec() {
    }

    public ProxySpec(ProxyType type, String host, int port, String credentialsSecret) {
        this.type = type;
        this.host = host;
        this.port = port;
        this.credentialsSecret = credentialsSecret;
    }

    public ProxyType getType() { return type; }
    public void setType(ProxyType type) { this.type = type; }
    public String getHost() { return host; }
    public void setHost(String host) { this.host = host; }
    public Integer getPort() { return port; }
    public void setPort(Integer port) { this.port = port; }
    public String getCredentialsSecret() { return credentialsSecret; }
    public void setCredentialsSecret(String credentialsSecret) { this.credentialsSecret = credentialsSecret; }
}
