package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Objects;

@ValidationRule(value = "has(self.target) != has(self.socks)", message = "a forward has either a target or socks")
@ValidationRule(value = "!has(self.socks) || self.remote.bindAddress in ['127.0.0.1', 'localhost', '::1']",
        message = "a SOCKS forward listens on the relay's loopback only: on any other address it would let anyone who "
                + "reaches the relay into the networks it allows")
@ValidationRule(value = "!has(self.socks) || !has(self.check) || self.check != 'SSHBanner'",
        message = "a SOCKS forward's check cannot expect an SSH banner: its agent answers, not a target")
public class ForwardSpec {

    public static final String NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    public static final int DEFAULT_MAX_CONNECTIONS = 1000;

    @Required
    @Size(min = 1, max = 63)
    @Pattern(NAME_PATTERN)
    @JsonPropertyDescription("A name for this forward, unique in the tunnel (a DNS label); status and metrics use it.")
    private String name;

    @Required
    @JsonPropertyDescription("Where the relay listens.")
    private RemoteEndpoint remote; // no default object: an absent remote is a problem, not port 0

    @JsonPropertyDescription("Where the agent connects for each connection the relay accepts: any host:port its pod "
            + "reaches. A forward has a target or socks, not both.")
    private TargetEndpoint target;

    @JsonPropertyDescription("Instead of a target: a reverse SOCKS forward (ssh -R port, no target). Each connection "
            + "through the relay's listen speaks SOCKS5 and the agent connects where the client asks, only within these "
            + "networks and ports. SOCKS5 has no authentication here: the listen must be on the relay's loopback "
            + "(remote.bindAddress 127.0.0.1, the default), reached with ssh -L by whoever may log in to the relay.")
    private SocksSpec socks;

    @Default("" + DEFAULT_MAX_CONNECTIONS)
    @Min(1)
    @Max(10000)
    @JsonPropertyDescription("At most this many connections open through the forward at once; the agent refuses more "
            + "(the relay closes them), counts them in jumpgate_agent_forward_refused_connections_total and reports "
            + "them as an Event. Each open connection costs the agent about 40 KiB of heap (on the image's Java 25); all "
            + "forwards together are also held to a budget derived from the agent's heap (about 2600 at the default "
            + "256Mi), so that floods into several forwards do not add up past the pod's memory limit.")
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;

    @Default("Auto")
    @JsonPropertyDescription("What the end-to-end check expects of the target: Auto (an SSH banner when the target's "
            + "port is 22, an accepted connection otherwise), SSHBanner, Connect, or None (no check: ready once the relay "
            + "listens). The check connects, on the relay, to this forward's own listen and follows the connection "
            + "through the agent to the target every spec.check.intervalSeconds. A forward on port 0 is not checked: its "
            + "key line cannot allow connections to a port chosen later.")
    private ForwardCheck check = ForwardCheck.Auto;

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
    public SocksSpec getSocks() { return socks; }
    public void setSocks(SocksSpec socks) { this.socks = socks; }

    /** Where its connections go, for status, logs and reports: host:port, or the SOCKS forward's networks. */
    public String destination() {
        return socks != null ? socks.toString() : String.valueOf(target);
    }
    public int getMaxConnections() { return maxConnections; }
    public void setMaxConnections(int maxConnections) { this.maxConnections = maxConnections; }
    public ForwardCheck getCheck() { return check; }
    public void setCheck(ForwardCheck check) { this.check = check; }

    /**
     * What the check of this forward expects of its target; {@link ForwardCheck#None} when none is asked for, and for a
     * port the relay allocates (port 0): the key's line cannot let the check connect to a port unknown when it was
     * written without letting it connect to every port of the relay.
     */
    public ForwardCheck checkMode() {
        if (remote != null && remote.getPort() == 0) {
            return ForwardCheck.None;
        }
        return (check == null ? ForwardCheck.Auto : check).resolvedFor(target);
    }

    /**
     * The same listen and target: maxConnections and check are left out, as the agent applies a new cap or check to
     * the forward in place rather than binding it again.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof ForwardSpec f && Objects.equals(name, f.name) && Objects.equals(remote, f.remote)
                && Objects.equals(target, f.target) && Objects.equals(socks, f.socks);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, remote, target, socks);
    }

    @Override
    public String toString() {
        return name + " " + remote + " -> " + destination();
    }
}
