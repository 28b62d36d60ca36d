package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A reverse SOCKS forward ({@code ssh -R port} with no target, OpenSSH 7.6+): each connection through the relay's
 * listen is a SOCKS5 client, and the agent connects where it asks, if that is in one of these networks and ports.
 */
public class SocksSpec {

    @Required
    @Size(min = 1, max = 16)
    @ValidationRule(value = "self.all(n, isCIDR(n))", message = "each network must be a CIDR (10.8.92.0/24, fd00::/64)")
    @JsonPropertyDescription("The networks the agent may connect to for a SOCKS client, as CIDRs (10.8.92.0/24; "
            + "10.8.92.10/32 for one machine). A host name the client gives is resolved by the agent and used only if "
            + "its address is in one of them. The agent's NetworkPolicy allows these networks.")
    private List<@Pattern(Cidr.PATTERN) @Size(max = 43) String> networks = new ArrayList<>();

    @Size(max = 16)
    @JsonPropertyDescription("The ports the agent may connect to; absent or empty: any port of those networks.")
    private List<@Min(1) @Max(65535) Integer> ports;

    public SocksSpec() {
    }

    public SocksSpec(List<String> networks, List<Integer> ports) {
        this.networks = new ArrayList<>(networks);
        this.ports = ports == null ? null : new ArrayList<>(ports);
    }

    public List<String> getNetworks() { return networks; }
    public void setNetworks(List<String> networks) { this.networks = networks; }
    public List<Integer> getPorts() { return ports; }
    public void setPorts(List<Integer> ports) { this.ports = ports; }

    /** Whether a SOCKS client may have the agent connect to this address and port. */
    public boolean allows(InetAddress address, int port) {
        if (ports != null && !ports.isEmpty() && !ports.contains(port)) {
            return false;
        }
        return networks.stream().map(Cidr::parse).anyMatch(network -> network.contains(address));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SocksSpec s && Objects.equals(networks, s.networks)
                && Objects.equals(ports == null ? List.of() : ports, s.ports == null ? List.of() : s.ports);
    }

    @Override
    public int hashCode() {
        return Objects.hash(networks, ports == null ? List.of() : ports);
    }

    @Override
    public String toString() {
        return "SOCKS to " + String.join(",", networks)
                + (ports == null || ports.isEmpty() ? "" : " ports " + ports.stream().map(String::valueOf).toList());
    }
}
