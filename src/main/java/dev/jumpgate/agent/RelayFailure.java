package dev.jumpgate.agent;

import dev.jumpgate.report.HopReport;
import dev.jumpgate.ssh.PublicKeyLine;
import java.util.List;

/**
 * Why a session to the relay could not be opened.
 *
 * @see dev.jumpgate.api.v1alpha1.Reasons
 */
final class RelayFailure extends Exception {

    private final String reason;
    private final boolean retryingSoonHelps;
    private final transient PublicKeyLine hostKeySeen;
    private final boolean refused;
    private transient List<HopReport> hops = List.of();

    RelayFailure(String reason, String message, boolean retryingSoonHelps, PublicKeyLine hostKeySeen) {
        this(reason, message, retryingSoonHelps, hostKeySeen, false);
    }

    RelayFailure(String reason, String message, boolean retryingSoonHelps, PublicKeyLine hostKeySeen, boolean refused) {
        super(message);
        this.reason = reason;
        this.retryingSoonHelps = retryingSoonHelps;
        this.hostKeySeen = hostKeySeen;
        this.refused = refused;
    }

    /** The same failure, with how far the attempt got through the spec's jump hosts. */
    RelayFailure withHops(List<HopReport> hops) {
        this.hops = List.copyOf(hops);
        return this;
    }

    /** One entry per jump host of the spec: which were passed, which failed, which not reached; empty without any. */
    List<HopReport> hops() {
        return hops;
    }

    /** The relay's host answered, refusing the TCP connection: its sshd is down, the host is up. */
    boolean refused() {
        return refused;
    }

    String reason() {
        return reason;
    }

    /** False for failures that only a change of spec, key or relay configuration can fix: wait the longest. */
    boolean retryingSoonHelps() {
        return retryingSoonHelps;
    }

    PublicKeyLine hostKeySeen() {
        return hostKeySeen;
    }
}
