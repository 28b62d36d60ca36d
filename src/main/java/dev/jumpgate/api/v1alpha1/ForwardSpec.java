package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.Objects;

public class ForwardSpec {

    public static final String NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

    @Required
    @Size(min = 1, max = 63)
    @Pattern(NAME_PATTERN)
    @JsonPropertyDescription("A name for this forward, unique in the tunnel (a DNS label); status and metrics use it.")
    private String name;

    @Required
    @JsonPropertyDescription("Where the relay listens.")
    private RemoteEndpoint remote = new RemoteEndpoint();

    @Required
    @JsonPropertyDescription("Where the agent connects for each connection the relay accepts: any host:port its pod reaches.")
    private TargetEndpoint target = new TargetEndpoint();

    public ForwardSpec() {
    }

    public ForwardSpec(String name, RemoteEndpoint remote, TargetEndpoint target) {
        this.name = name;
        this.remote = remote;
        this.target = target;
    }

    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
    public RemoteEndpoint getRemote() { return remote; }
    public void setRemote(RemoteEndpoint remote) { this.remote = remote; }
    public TargetEndpoint getTarget() { return target; }
    public void setTarget(TargetEndpoint target) { this.target = target; }

    @Override
    public boolean equals(Object o) {
        return o instanceof ForwardSpec f && Objects.equals(name, f.name) && Objects.equals(remote, f.remote)
                && Objects.equals(target, f.target);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, remote, target);
    }

    @Override
    public String toString() {
        return name + " " + remote + " -> " + target;
    }
}
