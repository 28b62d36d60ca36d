package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import java.util.List;
import java.util.Objects;

/**
 * What an agent applies: a tunnel's spec at one generation, its key, and, for trust on first use, the host key
 * accepted earlier (from the ReverseTunnel's status, or from this process).
 */
public record TunnelConfig(long generation, ReverseTunnelSpec spec, Identity identity, String acceptedHostKey) {

    public TunnelConfig {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(identity, "identity");
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

    /**
     * Whether a session opened for {@code other} serves this config too: same relay, login, host key rules, key and
     * keepalive. Forwards and backoff are applied on a live session.
     */
    boolean sameConnectionAs(TunnelConfig other) {
        var a = spec.getRelay();
        var b = other.spec.getRelay();
        return Objects.equals(a.getHost(), b.getHost()) && a.getPort() == b.getPort()
                && Objects.equals(a.getUser(), b.getUser())
                && Objects.equals(a.getHostKeys(), b.getHostKeys())
                && a.getHostKeyPolicy() == b.getHostKeyPolicy()
                && identity.sameKey(other.identity)
                && spec.getKeepalive().getIntervalSeconds() == other.spec.getKeepalive().getIntervalSeconds()
                && spec.getKeepalive().getCountMax() == other.spec.getKeepalive().getCountMax();
    }
}
