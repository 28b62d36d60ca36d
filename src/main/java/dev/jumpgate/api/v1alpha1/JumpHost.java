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
 * One SSH hop on the way to the relay, as {@code ssh -J user@host:port} makes it: the agent logs in here with the
 * tunnel's key and asks this host to open a TCP connection to the next hop (or the relay) and nothing else. A jump
 * host's key is always pinned: trust on first use would let whoever sits on the path be the hop.
 */
public class JumpHost {

    @Required
    @Size(min = 1, max = 253)
    @Pattern(RelaySpec.HOST_PATTERN)
    @JsonPropertyDescription("Host name or IP address of the jump host's SSH server, as the previous hop (or, for the "
            + "first, the agent's pod) reaches it.")
    private String host;

    @Min(1)
    @Max(65535)
    @Default("22")
    @JsonPropertyDescription("TCP port of the jump host's SSH server.")
    private int port = 22;

    @Required
    @Size(min = 1, max = 64)
    @Pattern(RelaySpec.USER_PATTERN)
    @JsonPropertyDescription("The user the agent logs in as on the jump host, with the tunnel's key.")
    private String user;

    @Required
    @Size(min = 1, max = 16)
    @JsonPropertyDescription("The jump host's host public keys the agent accepts, each as in known_hosts without the "
            + "host (\"ssh-ed25519 AAAA...\"). Required: a jump host is never trusted on first use.")
    private List<@Pattern(RelaySpec.HOST_KEY_PATTERN) @Size(max = 4096) String> hostKeys = new ArrayList<>();

    public JumpHost() {
    }

    public JumpHost(String host, int port, String user, List<String> hostKeys) {
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

    /** As ssh and the logs name it: user@host:port. */
    public String where() {
        return user + "@" + host + ":" + port;
    }
}
