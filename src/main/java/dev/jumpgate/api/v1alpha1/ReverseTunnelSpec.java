package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

@ValidationRule(value = "!has(self.fallbackRelays) || self.fallbackRelays.all(f, f.host != self.relay.host "
        + "|| f.port != self.relay.port)", message = "a fallback relay cannot be spec.relay itself")
public class ReverseTunnelSpec {

    /** The most relays a tunnel falls back to after its preferred one. */
    public static final int MAX_FALLBACK_RELAYS = 3;

    @Required
    @JsonPropertyDescription("The SSH server the agent connects to and asks to listen on the forwards' remote ports.")
    private RelaySpec relay = new RelaySpec();

    @Size(max = ReverseTunnelSpec.MAX_FALLBACK_RELAYS)
    @ValidationRule(value = "self.all(f, self.exists_one(g, g.host == f.host && g.port == f.port))",
            message = "each fallback relay must be another host or port")
    @JsonPropertyDescription("Relays to move the tunnel to, in order of preference, when spec.relay cannot hold it "
            + "(unreachable, its session lost, or refusing the login): the agent tries the next one at once. While on a "
            + "fallback it tries the relays before it every reconnect.failbackSeconds and moves back when one holds "
            + "every forward again; connections already open through the fallback stay open until they end (an hour at most). "
            + "status.relay.active names the relay in use and status.sshConfig follows it.")
    private List<FallbackRelay> fallbackRelays;

    @Default("OnFailure")
    @JsonPropertyDescription("With spec.fallbackRelays, when the agent logs in to the first of them. OnFailure: when "
            + "the relay in use fails (a failover costs a login). Standby: while spec.relay holds the tunnel, a session "
            + "to the first fallback relay stays logged in, idle, so that a failover only asks it to listen; one more "
            + "SSH session per tunnel on that relay.")
    private FallbackSession fallbackSession = FallbackSession.OnFailure;

    @JsonPropertyDescription("The private key the agent authenticates with. Absent: the operator generates an ed25519 key "
            + "into the Secret <name>-key and publishes its public half in status.publicKey and status.authorizedKey.")
    private AuthSpec auth;

    @Required
    @Size(min = 1, max = 64)
    @ValidationRule(value = "self.all(f, self.exists_one(g, g.name == f.name))", message = "forward names must be unique")
    @ValidationRule(value = "self.all(f, f.remote.port == 0 || self.exists_one(g, g.remote.port == f.remote.port "
            + "&& g.remote.bindAddress == f.remote.bindAddress))",
            message = "two forwards cannot listen on the same remote address and port")
    @JsonPropertyDescription("The remote forwards held on the relay, as `ssh -R bindAddress:port:host:port` would hold them.")
    private List<ForwardSpec> forwards = new ArrayList<>();

    @JsonPropertyDescription("How the agent notices a dead relay: a keepalive every intervalSeconds, "
            + "the relay declared dead after countMax unanswered ones.")
    private KeepaliveSpec keepalive = new KeepaliveSpec();

    @JsonPropertyDescription("How long the agent waits between attempts to reach the relay: exponential backoff with jitter.")
    private ReconnectSpec reconnect = new ReconnectSpec();

    @JsonPropertyDescription("How often each forward is checked end to end: from the relay's listen, through the agent, "
            + "to the target. A forward is Ready only when its last check passed (or its check is None).")
    private CheckSpec check = new CheckSpec();

    @JsonPropertyDescription("Which agent serves the tunnel: the namespace's default pool unless it names another pool or "
            + "asks for a dedicated agent.")
    private AgentPlacement agent;

    public RelaySpec getRelay() { return relay; }
    public void setRelay(RelaySpec relay) { this.relay = relay; }
    public List<FallbackRelay> getFallbackRelays() { return fallbackRelays; }
    public void setFallbackRelays(List<FallbackRelay> fallbackRelays) { this.fallbackRelays = fallbackRelays; }
    public FallbackSession getFallbackSession() { return fallbackSession; }
    public void setFallbackSession(FallbackSession fallbackSession) { this.fallbackSession = fallbackSession; }
    public AuthSpec getAuth() { return auth; }
    public void setAuth(AuthSpec auth) { this.auth = auth; }
    public List<ForwardSpec> getForwards() { return forwards; }
    public void setForwards(List<ForwardSpec> forwards) { this.forwards = forwards; }
    public KeepaliveSpec getKeepalive() { return keepalive; }
    public void setKeepalive(KeepaliveSpec keepalive) { this.keepalive = keepalive; }
    public ReconnectSpec getReconnect() { return reconnect; }
    public void setReconnect(ReconnectSpec reconnect) { this.reconnect = reconnect; }
    public CheckSpec getCheck() { return check; }
    public AgentPlacement getAgent() { return agent; }
    public void setAgent(AgentPlacement agent) { this.agent = agent; }

    /** Where the tunnel's agent runs, as the spec says or by default. */
    public AgentPlacement placement() {
        return agent == null ? new AgentPlacement() : agent;
    }
    public void setCheck(CheckSpec check) { this.check = check; }

    /**
     * This spec held on another relay: a shallow copy that shares every other field (a fallback relay's view, made on
     * the failover's path, where a copy through JSON would cost the first failover of a process a tenth of a second).
     */
    public ReverseTunnelSpec withRelay(RelaySpec other) {
        ReverseTunnelSpec copy = new ReverseTunnelSpec();
        copy.relay = other;
        copy.fallbackRelays = fallbackRelays;
        copy.fallbackSession = fallbackSession;
        copy.auth = auth;
        copy.forwards = forwards;
        copy.keepalive = keepalive;
        copy.reconnect = reconnect;
        copy.check = check;
        copy.agent = agent;
        return copy;
    }

    /**
     * Every relay the tunnel may be held on, the preferred one first: spec.relay, then each fallback relay as the
     * agent connects to it (through spec.relay.proxy when there is one).
     */
    public List<RelaySpec> relays() {
        List<RelaySpec> relays = new ArrayList<>();
        relays.add(relay);
        if (fallbackRelays != null) {
            fallbackRelays.forEach(fallback -> relays.add(fallback.asRelay(relay.getProxy())));
        }
        return relays;
    }
}
