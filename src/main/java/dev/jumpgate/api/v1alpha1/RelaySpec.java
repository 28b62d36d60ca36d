package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

@ValidationRule(value = "(has(self.hostKeyPolicy) && self.hostKeyPolicy == 'AcceptNew') "
        + "|| (has(self.hostKeys) && size(self.hostKeys) > 0)",
        message = "hostKeys must pin at least one relay host key unless hostKeyPolicy is AcceptNew")
public class RelaySpec {

    /** An OpenSSH public key line: type, base64 blob, optional comment (as in known_hosts without the host). */
    public static final String HOST_KEY_PATTERN =
            "^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) [A-Za-z0-9+/]+=*( .*)?$";

    @Required
    @Size(min = 1, max = 253)
    @Pattern("^[A-Za-z0-9.:\\-\\[\\]]+$")
    @JsonPropertyDescription("Host name or IP address of the relay's SSH server.")
    private String host;

    @Min(1)
    @Max(65535)
    @Default("22")
    @JsonPropertyDescription("TCP port of the relay's SSH server.")
    private int port = 22;

    @Required
    @Size(min = 1, max = 64)
    @Pattern("^[A-Za-z0-9._][A-Za-z0-9._-]*$")
    @JsonPropertyDescription("The user the agent logs in as on the relay.")
    private String user;

    @Size(max = 16)
    @JsonPropertyDescription("The relay's host public keys the agent accepts, each as in known_hosts without the host "
            + "(\"ssh-ed25519 AAAA...\"; `ssh-keyscan -t ed25519 relay` prints them). Required unless hostKeyPolicy is AcceptNew.")
    // 4096 characters hold an ssh-rsa 16384-bit key and its comment; nothing legitimate is longer.
    private List<@Pattern(HOST_KEY_PATTERN) @Size(max = 4096) String> hostKeys = new ArrayList<>();

    @Default("Pinned")
    @JsonPropertyDescription("Pinned: only hostKeys are accepted. AcceptNew: trust on first use; the first key seen is "
            + "reported in status.relay.hostKey and accepted alone from then on.")
    private HostKeyPolicy hostKeyPolicy = HostKeyPolicy.Pinned;

    public String getHost() { return host; }
    public void setHost(String host) { this.host = host; }
    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }
    public String getUser() { return user; }
    public void setUser(String user) { this.user = user; }
    public List<String> getHostKeys() { return hostKeys; }
    public void setHostKeys(List<String> hostKeys) { this.hostKeys = hostKeys; }
    public HostKeyPolicy getHostKeyPolicy() { return hostKeyPolicy; }
    public void setHostKeyPolicy(HostKeyPolicy hostKeyPolicy) { this.hostKeyPolicy = hostKeyPolicy; }

    /** Trust on first use: AcceptNew with no key pinned, so the first key the relay presents is accepted. */
    public boolean trustsFirstUse() {
        return hostKeyPolicy == HostKeyPolicy.AcceptNew && (hostKeys == null || hostKeys.isEmpty());
    }
}
