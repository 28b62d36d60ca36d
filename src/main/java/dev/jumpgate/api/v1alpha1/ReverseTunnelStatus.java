package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Written by the operator only, from what it sees in the cluster and what the agent reports. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ReverseTunnelStatus {

    @JsonPropertyDescription("The generation of the spec this status describes.")
    private Long observedGeneration;

    @JsonPropertyDescription("Ready: the agent is connected, every forward is bound and passed its last end-to-end "
            + "check. Connected: the agent's session to the relay is up. Reachable: every checked forward's last check "
            + "passed. Each with a reason (SpecInvalid, SecretMissing, AgentUnavailable, RelayUnreachable, "
            + "AuthenticationFailed, HostKeyMismatch, ForwardRefused, ...) and a message.")
    private List<TunnelCondition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The relay as the agent sees it.")
    private RelayStatus relay;

    @JsonPropertyDescription("Each forward as the relay holds it, in the order of the spec.")
    private List<ForwardStatus> forwards = new ArrayList<>();

    @JsonPropertyDescription("Bound forwards out of all, e.g. 2/3.")
    private String boundForwards;

    @JsonPropertyDescription("Forwards whose last end-to-end check passed out of those checked, e.g. 1/2.")
    private String reachableForwards;

    @JsonPropertyDescription("The public half of the agent's key.")
    private String publicKey;

    @JsonPropertyDescription("The line to append to the relay user's ~/.ssh/authorized_keys: the agent's key, allowed to "
            + "listen where this tunnel listens and nothing else.")
    private String authorizedKey;

    @JsonPropertyDescription("With spec.auth.secretRef.certificateKey, for a relay that trusts a user CA: the line for the "
            + "relay user's AuthorizedPrincipalsFile, the same restrictions as authorizedKey for any certificate with the "
            + "tunnel's principal (jumpgate:NAMESPACE/NAME), which the certificate must carry.")
    private String authorizedPrincipal;

    @JsonPropertyDescription("The agent's SSH user certificate, when it has one: issued by the operator's user CA "
            + "(the chart's userCA) for a generated key, or read from spec.auth.secretRef's certificateKey.")
    private CertificateStatus certificate;

    @JsonPropertyDescription("The agent that serves the tunnel.")
    private AgentStatus agent;

    @JsonPropertyDescription("For the laptop's ~/.ssh/config: a Host entry per forward, named <tunnel>-<forward>, that "
            + "reaches it on the relay that holds the tunnel now (status.relay.active with fallback relays), with a "
            + "ProxyJump through the relay for a forward that listens on the relay's loopback. HostKeyAlias keeps the "
            + "target's host key under the entry's name, whichever relay carries it. Only what the spec says goes in "
            + "(no user, no key): add yours after it.")
    private String sshConfig;

    public Long getObservedGeneration() { return observedGeneration; }
    public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
    public List<TunnelCondition> getConditions() { return conditions; }
    public void setConditions(List<TunnelCondition> conditions) { this.conditions = conditions; }
    public RelayStatus getRelay() { return relay; }
    public void setRelay(RelayStatus relay) { this.relay = relay; }
    public List<ForwardStatus> getForwards() { return forwards; }
    public void setForwards(List<ForwardStatus> forwards) { this.forwards = forwards; }
    public String getBoundForwards() { return boundForwards; }
    public void setBoundForwards(String boundForwards) { this.boundForwards = boundForwards; }
    public String getReachableForwards() { return reachableForwards; }
    public void setReachableForwards(String reachableForwards) { this.reachableForwards = reachableForwards; }
    public String getPublicKey() { return publicKey; }
    public void setPublicKey(String publicKey) { this.publicKey = publicKey; }
    public String getAuthorizedKey() { return authorizedKey; }
    public void setAuthorizedKey(String authorizedKey) { this.authorizedKey = authorizedKey; }
    public String getAuthorizedPrincipal() { return authorizedPrincipal; }
    public void setAuthorizedPrincipal(String authorizedPrincipal) { this.authorizedPrincipal = authorizedPrincipal; }
    public AgentStatus getAgent() { return agent; }
    public void setAgent(AgentStatus agent) { this.agent = agent; }
    public CertificateStatus getCertificate() { return certificate; }
    public void setCertificate(CertificateStatus certificate) { this.certificate = certificate; }
    public String getSshConfig() { return sshConfig; }
    public void setSshConfig(String sshConfig) { this.sshConfig = sshConfig; }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReverseTunnelStatus s && Objects.equals(observedGeneration, s.observedGeneration)
                && Objects.equals(conditions, s.conditions) && Objects.equals(relay, s.relay)
                && Objects.equals(forwards, s.forwards) && Objects.equals(boundForwards, s.boundForwards)
                && Objects.equals(reachableForwards, s.reachableForwards)
                && Objects.equals(publicKey, s.publicKey) && Objects.equals(authorizedKey, s.authorizedKey)
                && Objects.equals(agent, s.agent) && Objects.equals(sshConfig, s.sshConfig)
                && Objects.equals(authorizedPrincipal, s.authorizedPrincipal)
                && Objects.equals(certificate, s.certificate);
    }

    @Override
    public int hashCode() {
        return Objects.hash(observedGeneration, conditions, relay, forwards, boundForwards, reachableForwards, publicKey, authorizedKey, agent, sshConfig,
                authorizedPrincipal, certificate);
    }
}
