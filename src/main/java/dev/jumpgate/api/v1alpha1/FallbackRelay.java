package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

/**
 * A relay the agent moves to when the preferred one ({@code spec.relay}) cannot hold the tunnel, and leaves again
 * when that one can. The same forwards, the same key: the relay's authorized_keys line is the tunnel's
 * status.authorizedKey, as on the preferred relay. Its host keys are always pinned (a relay the agent only meets on a
 * bad day must not be trusted on first use); it is reached directly, or through spec.relay.proxy when that is set.
 */
public class FallbackRelay {

    @Required
    @Size(min = 1, max = 253)
    @Pattern(RelaySpec.HOST_PATTERN)
    @JsonPropertyDescription("Host name or IP address of the fallback relay's SSH server.")
    private String host;

    @Min(1)
    @Max(65535)
    @Default("22")
    @JsonPropertyDescription("TCP port of the fallback relay's SSH server.")
    private int port = 22;

    @Required
    @Size(min = 1, max = 64)
    @Pattern(RelaySpec.USER_PATTERN)
    @JsonPropertyDescription("The user the agent logs in as on the fallback relay.")
    private String user;

    @Required
    @Size(min = 1, max = 16)
    @JsonPropertyDescription("The fallback relay's host public keys the agent accepts, each as in known_hosts without "
            + "the host (\"ssh-ed25519 AAAA...\"). Required: a fallback relay is never trusted on first use.")
    private List<@Pattern(RelaySpec.HOST_KEY_PATTERN) @Size(max = 4096) String> hostKeys = new ArrayList<>();

    public FallbackRelay() {
    }

    public FallbackRelay(String host, int port, String user, List<String> hostKeys) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.hostKeys = new ArrayList<>(hostKeys);
    }

    public String getHost() { return host; }
    public void setHost(String host) { this.host = host; }
    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }
    public String getUser() { return user; }
    public void setUser(String user) { this.user = user; }
    public List<String> getHostKeys() { return hostKeys; }
    public void setHostKeys(List<String> hostKeys) { this.hostKeys = hostKeys; }

    /** This relay as the agent connects to it: pinned, no jump hosts, through the preferred relay's proxy if any. */
    RelaySpec asRelay(ProxySpec proxy) {
        RelaySpec relay = new RelaySpec();
        relay.setHost(host);
        relay.setPort(port);
        relay.setUser(user);
        relay.setHostKeys(new ArrayList<>(hostKeys));
        relay.setHostKeyPolicy(HostKeyPolicy.Pinned);
        relay.setProxy(proxy);
        return relay;
    }
}
