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
        + "|| (has(self.hostKeys) && size(self.hostKeys) > 0) "
        + "|| (has(self.hostCertificateAuthorities) && size(self.hostCertificateAuthorities) > 0)",
        message = "hostKeys must pin at least one relay host key unless hostKeyPolicy is AcceptNew or "
                + "hostCertificateAuthorities names a host CA")
public class RelaySpec {

    /** An OpenSSH public key line: type, base64 blob, optional comment (as in known_hosts without the host). */
    public static final String HOST_KEY_PATTERN =
            "^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) [A-Za-z0-9+/]+=*( .*)?$";

    /** A host name, an IPv4 address or an IPv6 address (bare or in brackets). */
    public static final String HOST_PATTERN = "^[A-Za-z0-9.:\\-\\[\\]]+$";
    /** A login name as sshd takes it. */
    public static final String USER_PATTERN = "^[A-Za-z0-9._][A-Za-z0-9._-]*$";
    /** The most jump hosts one tunnel goes through. */
    public static final int MAX_JUMP_HOSTS = 4;

    @Required
    @Size(min = 1, max = 253)
    @Pattern(HOST_PATTERN)
    @JsonPropertyDescription("Host name or IP address of the relay's SSH server.")
    private String host;

    @Min(1)
    @Max(65535)
    @Default("22")
    @JsonPropertyDescription("TCP port of the relay's SSH server.")
    private int port = 22;

    @Required
    @Size(min = 1, max = 64)
    @Pattern(USER_PATTERN)
    @JsonPropertyDescription("The user the agent logs in as on the relay.")
    private String user;

    @Size(max = 16)
    @JsonPropertyDescription("The relay's host public keys the agent accepts, each as in known_hosts without the host "
            + "(\"ssh-ed25519 AAAA...\"; `ssh-keyscan -t ed25519 relay` prints them). Required unless hostKeyPolicy is AcceptNew.")
    // 4096 characters hold an ssh-rsa 16384-bit key and its comment; nothing legitimate is longer.
    private List<@Pattern(HOST_KEY_PATTERN) @Size(max = 4096) String> hostKeys = new ArrayList<>();

    @Size(max = 8)
    @JsonPropertyDescription("Host certificate authorities, each as its public key (\"ssh-ed25519 AAAA...\", what a "
            + "known_hosts @cert-authority line holds): the relay may present a host certificate signed by one of them, "
            + "valid now and naming the relay's host among its principals, instead of a key pinned in hostKeys (which "
            + "are accepted too). Never trust on first use beside a CA.")
    private List<@Pattern(HOST_KEY_PATTERN) @Size(max = 4096) String> hostCertificateAuthorities;

    @Default("Pinned")
    @JsonPropertyDescription("Pinned: only hostKeys are accepted. AcceptNew: trust on first use; the first key seen is "
            + "reported in status.relay.hostKey and accepted alone from then on.")
    private HostKeyPolicy hostKeyPolicy = HostKeyPolicy.Pinned;

    @Size(max = MAX_JUMP_HOSTS)
    @JsonPropertyDescription("SSH jump hosts to go through before the relay, in order, as `ssh -J` does: the agent logs "
            + "in to the first, has it open a connection to the next (or to the relay), and so on. Each hop accepts the "
            + "tunnel's key with its own authorized_keys line (status.relay.hops[].authorizedKey), which lets the key "
            + "open a connection to the next hop and do nothing else there.")
    private List<JumpHost> via;

    @JsonPropertyDescription("An egress proxy (HTTP CONNECT or SOCKS5) that the agent's first connection goes "
            + "through: to the first jump host, or to the relay when there is none.")
    private ProxySpec proxy;

    public String getHost() { return host; }
    public void setHost(String host) { this.host = host; }
    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }
    public String getUser() { return user; }
    public void setUser(String user) { this.user = user; }
    public List<String> getHostKeys() { return hostKeys; }
    public void setHostKeys(List<String> hostKeys) { this.hostKeys = hostKeys; }
    public List<String> getHostCertificateAuthorities() { return hostCertificateAuthorities; }
    public void setHostCertificateAuthorities(List<String> hostCertificateAuthorities) {
        this.hostCertificateAuthorities = hostCertificateAuthorities;
    }

    /** The host CAs the relay's host certificate may be signed by; empty without any. */
    public List<String> hostCertificateAuthorityKeys() {
        return hostCertificateAuthorities == null ? List.of() : hostCertificateAuthorities;
    }
    public HostKeyPolicy getHostKeyPolicy() { return hostKeyPolicy; }
    public void setHostKeyPolicy(HostKeyPolicy hostKeyPolicy) { this.hostKeyPolicy = hostKeyPolicy; }

    public List<JumpHost> getVia() { return via; }
    public void setVia(List<JumpHost> via) { this.via = via; }
    public ProxySpec getProxy() { return proxy; }
    public void setProxy(ProxySpec proxy) { this.proxy = proxy; }

    /** The jump hosts in order; empty when the agent connects to the relay directly. */
    public List<JumpHost> jumpHosts() {
        return via == null ? List.of() : via;
    }

    /** A host and port the agent's pod connects to. */
    public record Address(String host, int port) {
    }

    /**
     * Where the agent's pod itself connects: the egress proxy, else the first jump host, else the relay. The only
     * SSH-side place its NetworkPolicy lets it reach, and what the agent probes while that place refuses.
     */
    public Address firstConnection() {
        if (proxy != null) {
            return new Address(proxy.getHost(), proxy.getPort() == null ? 0 : proxy.getPort());
        }
        List<JumpHost> hops = jumpHosts();
        return hops.isEmpty() ? new Address(host, port) : new Address(hops.get(0).getHost(), hops.get(0).getPort());
    }

    /** Where the agent logs in on the relay, as ssh names it: user@host:port. */
    public String where() {
        return user + "@" + host + ":" + port;
    }

    /** Trust on first use: AcceptNew with no key pinned, so the first key the relay presents is accepted. */
    public boolean trustsFirstUse() {
        return hostKeyPolicy == HostKeyPolicy.AcceptNew && (hostKeys == null || hostKeys.isEmpty())
                && hostCertificateAuthorityKeys().isEmpty();
    }
}
