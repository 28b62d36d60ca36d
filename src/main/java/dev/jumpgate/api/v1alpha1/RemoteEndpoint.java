package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.Objects;
import java.util.Set;

public class RemoteEndpoint {

    public static final String LOOPBACK = "127.0.0.1";
    /** The bind addresses that listen on the relay's loopback only (the schema's SOCKS rule names the same three). */
    public static final Set<String> LOOPBACK_ADDRESSES = Set.of(LOOPBACK, "localhost", "::1");

    @Default(LOOPBACK)
    @Size(min = 1, max = 253)
    @Pattern("^([A-Za-z0-9.:\\-]+|\\*)$")
    @JsonPropertyDescription("Address the relay listens on: 127.0.0.1 (only the relay itself), 0.0.0.0 or * (every "
            + "interface: needs GatewayPorts clientspecified on the relay), or one of its addresses.")
    private String bindAddress = LOOPBACK;

    @Required
    @Min(0)
    @Max(65535)
    @JsonPropertyDescription("Port the relay listens on; 0 lets the relay choose one, reported in status.forwards[].remotePort.")
    private Integer port; // not int: a forward without a port is refused, not read as 0 (the relay's choice)

    public RemoteEndpoint() {
    }

    public RemoteEndpoint(String bindAddress, int port) {
        this.bindAddress = bindAddress;
        this.port = port;
    }

    public String getBindAddress() { return bindAddress; }
    public void setBindAddress(String bindAddress) { this.bindAddress = bindAddress; }
    public int getPort() { return port == null ? 0 : port; }
    public void setPort(int port) { this.port = port; }

    /** Whether only the relay itself reaches this listen. */
    public boolean onLoopback() {
        return bindAddress != null && LOOPBACK_ADDRESSES.contains(bindAddress);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RemoteEndpoint r && getPort() == r.getPort() && Objects.equals(bindAddress, r.bindAddress);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bindAddress, getPort());
    }

    @Override
    public String toString() {
        return bindAddress + ":" + getPort();
    }
}
