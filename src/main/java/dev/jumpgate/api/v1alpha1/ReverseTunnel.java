package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.jumpgate.ssh.AuthorizedKeyLine;
import dev.jumpgate.ssh.PublicKeyLine;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.List;

/**
 * One machine (or several) behind NAT kept reachable through an SSH relay: the agent holds the remote
 * forwards of {@link ReverseTunnelSpec#getForwards()} on the relay, the operator reports them in the status.
 */
@Group(ReverseTunnel.GROUP)
@Version(ReverseTunnel.VERSION)
@Plural("reversetunnels")
@ShortNames("rtun")
@AdditionalPrinterColumn(name = "Ready", type = AdditionalPrinterColumn.Type.STRING,
        jsonPath = ".status.conditions[?(@.type==\"Ready\")].status")
@AdditionalPrinterColumn(name = "Relay", type = AdditionalPrinterColumn.Type.STRING, jsonPath = ".spec.relay.host")
@AdditionalPrinterColumn(name = "Forwards", type = AdditionalPrinterColumn.Type.STRING, jsonPath = ".status.boundForwards")
@AdditionalPrinterColumn(name = "Reachable", type = AdditionalPrinterColumn.Type.STRING,
        jsonPath = ".status.reachableForwards")
@AdditionalPrinterColumn(name = "Reason", type = AdditionalPrinterColumn.Type.STRING,
        jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason")
@AdditionalPrinterColumn(name = "Age", type = AdditionalPrinterColumn.Type.DATE, jsonPath = ".metadata.creationTimestamp")
// The name becomes a label value (jumpgate.dev/tunnel) on every object of the tunnel's, and those hold 63 characters:
// a longer name, valid for a custom resource, would leave the tunnel with no agent and a retry loop.
@ValidationRule(value = "self.metadata.name.size() <= " + ReverseTunnel.MAX_NAME_LENGTH,
        message = "the name of a ReverseTunnel may have at most " + ReverseTunnel.MAX_NAME_LENGTH
                + " characters: it labels the agent's objects")
public class ReverseTunnel extends CustomResource<ReverseTunnelSpec, ReverseTunnelStatus> implements Namespaced {

    public static final String GROUP = "jumpgate.dev";
    public static final String VERSION = "v1alpha1";
    public static final int MAX_NAME_LENGTH = 63;

    @Override
    @Required
    @JsonPropertyDescription("What the tunnel should be: the relay, the key, the forwards.")
    public ReverseTunnelSpec getSpec() {
        return super.getSpec();
    }

    @Override
    @JsonPropertyDescription("What the tunnel is, as the operator last saw it.")
    public ReverseTunnelStatus getStatus() {
        return super.getStatus();
    }

    /** The comment of the tunnel's key and of its authorized_keys line: jumpgate:NAMESPACE/NAME (jumpgate:NAME from a file). */
    public String keyComment() {
        String namespace = getMetadata().getNamespace();
        return "jumpgate:" + (namespace == null || namespace.isEmpty() ? "" : namespace + "/") + getMetadata().getName();
    }

    /**
     * The authorized_keys line for this tunnel's key: it may listen where the tunnel's forwards listen, and be
     * connected to there by the end-to-end check. The operator puts it in status.authorizedKey; the standalone agent
     * prints it ({@code jumpgate authorized-key}).
     */
    public String authorizedKeyLine(PublicKeyLine key) {
        return authorizedKeyLine(key, getSpec().getRelay());
    }

    /**
     * The authorized_keys line for this tunnel's key on one of its relays (spec.relay or a fallback): the same listens,
     * and the end-to-end check's connections permitted to that relay's own name only.
     */
    public String authorizedKeyLine(PublicKeyLine key, RelaySpec relay) {
        return AuthorizedKeyLine.of(key, relay.getHost(), listens(), keyComment());
    }

    /**
     * For a relay that trusts a user CA: the AuthorizedPrincipalsFile line that gives certificates with the tunnel's
     * principal ({@link #keyComment()}, jumpgate:NAMESPACE/NAME) the restrictions of its authorized_keys line.
     */
    public String authorizedPrincipalLine(RelaySpec relay) {
        return AuthorizedKeyLine.forPrincipal(keyComment(), relay.getHost(), listens());
    }

    /** Whether the tunnel's key comes with a certificate (spec.auth.secretRef.certificateKey). */
    public boolean usesCertificate() {
        return getSpec() != null && getSpec().getAuth() != null && getSpec().getAuth().getSecretRef() != null
                && getSpec().getAuth().getSecretRef().getCertificateKey() != null;
    }

    private List<AuthorizedKeyLine.Listen> listens() {
        return getSpec().getForwards().stream()
                .filter(f -> f.getRemote() != null) // an invalid spec's (its status says so): no listen to permit
                .map(f -> new AuthorizedKeyLine.Listen(f.getRemote().getBindAddress(), f.getRemote().getPort(),
                        f.checkMode() != ForwardCheck.None))
                .toList();
    }

    /**
     * The authorized_keys line for each jump host of spec.relay.via, in order: the tunnel's key may have that hop open
     * a connection to the next one (the relay, after the last), and nothing else.
     */
    public List<String> jumpHostKeyLines(PublicKeyLine key) {
        RelaySpec relay = getSpec().getRelay();
        List<JumpHost> via = relay.jumpHosts();
        List<String> lines = new java.util.ArrayList<>();
        for (int i = 0; i < via.size(); i++) {
            boolean last = i == via.size() - 1;
            lines.add(AuthorizedKeyLine.forJumpHost(key, last ? relay.getHost() : via.get(i + 1).getHost(),
                    last ? relay.getPort() : via.get(i + 1).getPort(), keyComment()));
        }
        return lines;
    }

    /** The spec's generation; 0 for a tunnel the API server has not numbered (read from a file, built in a test). */
    public long generation() {
        return getMetadata().getGeneration() == null ? 0 : getMetadata().getGeneration();
    }
}
