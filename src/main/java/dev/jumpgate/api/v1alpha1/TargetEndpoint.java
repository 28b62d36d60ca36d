package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.Objects;

public class TargetEndpoint {

    @Required
    @Size(min = 1, max = 253)
    @Pattern("^[A-Za-z0-9.:\\-]+$")
    @JsonPropertyDescription("Host name or IP address the agent connects to, as seen from its pod (a LAN machine, a Service).")
    private String host;

    @Required
    @Min(1)
    @Max(65535)
    @JsonPropertyDescription("TCP port on the target host.")
    private int port;

    public TargetEndpoint() {
    }

    public TargetEndpoint(String host, int port) {
        this.host = host;
        this.port = port;
    }

    public String getHost() { return host; }
    public void setHost(String host) { this.host = host; }
    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }

    @Override
    public boolean equals(Object o) {
        return o instanceof TargetEndpoint t && port == t.port && Objects.equals(host, t.host);
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, port);
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}
