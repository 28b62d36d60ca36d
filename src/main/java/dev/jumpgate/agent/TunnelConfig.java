package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Objects;

/**
 * What an agent applies: a tunnel's spec at one generation, its key, for trust on first use the host key accepted
 * earlier (from the ReverseTunnel's status, or from this process), and the credentials of its egress proxy, when the
 * spec names a proxy that wants some (null otherwise).
 */
public record TunnelConfig(long generation, ReverseTunnelSpec spec, Identity identity, String acceptedHostKey,
        ProxyCredentials proxyCredentials) {

    public TunnelConfig {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(identity, "identity");
    }

    /** A tunnel whose proxy, if any, asks for no credentials. */
    public TunnelConfig(long generation, ReverseTunnelSpec spec, Identity identity, String acceptedHostKey) {
        this(generation, spec, identity, acceptedHostKey, null);
    }

    List<ForwardSpec> forwards() {
        return spec.getForwards();
    }

    /**
     * The keys the relay must present. Pinned keys win; with AcceptNew and none pinned, the key accepted earlier;
     * an empty list means the next key seen is accepted.
     */
    List<String> hostKeyPins(String acceptedInThisProcess) {
        List<String> pinned = spec.getRelay().getHostKeys();
        if (pinned != null && !pinned.isEmpty()) {
            return pinned;
        }
        if (spec.getRelay().getHostKeyPolicy() != HostKeyPolicy.AcceptNew) {
            return List.of();
        }
        String accepted = acceptedHostKey != null ? acceptedHostKey : acceptedInThisProcess;
        return accepted == null ? List.of() : List.of(accepted);
    }

    boolean trustsFirstUse() {
        return spec.getRelay().trustsFirstUse();
    }

    /** How many relays may hold the tunnel: spec.relay and its fallback relays. */
    int relayCount() {
        return spec.getFallbackRelays() == null ? 1 : 1 + spec.getFallbackRelays().size();
    }

    /**
     * This config as the agent applies it on relay {@code index} of {@link ReverseTunnelSpec#relays} (0: the
     * preferred one, this config itself): the spec's relay is that one, so that the session, its host key checks
     * and its end-to-end checks concern it. A fallback relay's keys are pinned: nothing accepted on first use applies.
     */
    TunnelConfig onRelay(int index) {
        if (index == 0) {
            return this;
        }
        return new TunnelConfig(generation, spec.withRelay(spec.relays().get(index)), identity, null, proxyCredentials);
    }

    /**
     * Whether a session opened for {@code other} on its relay {@code index} serves this config too: this config has
     * such a relay, with the same value in every field (host, login, host key rules, jump hosts, proxy), and the same
     * key, proxy credentials and keepalive. Forwards, checks, backoff and the other relays are applied on a live session.
     */
    boolean sameConnectionAs(TunnelConfig other, int index) {
        if (index >= relayCount() || index >= other.relayCount()) {
            return false;
        }
        boolean sameRelay = index == 0 ? sameFields(spec.getRelay(), other.spec.getRelay())
                : sameFields(spec.getFallbackRelays().get(index - 1), other.spec.getFallbackRelays().get(index - 1))
                        && sameFields(spec.getRelay().getProxy(), other.spec.getRelay().getProxy());
        return sameRelay && identity.sameKey(other.identity)
                && sameFields(spec.getKeepalive(), other.spec.getKeepalive())
                && (proxyCredentials == null ? other.proxyCredentials == null : proxyCredentials.same(other.proxyCredentials));
    }

    /** {@link #sameConnectionAs(TunnelConfig, int)} on the preferred relay. */
    boolean sameConnectionAs(TunnelConfig other) {
        return sameConnectionAs(other, 0);
    }

    /**
     * Two parts of a spec with the same value in every field, compared as the JSON the API server stores: a field
     * added to the type counts without a line here (a list of getters would silently miss it). The agent's loop asks
     * on every pass, almost always about the very same objects: those are answered without turning them into JSON.
     */
    static boolean sameFields(Object a, Object b) {
        return a == b || Serialization.jsonMapper().valueToTree(a).equals(Serialization.jsonMapper().valueToTree(b));
    }
}
