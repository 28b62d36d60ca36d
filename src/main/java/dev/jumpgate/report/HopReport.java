package dev.jumpgate.report;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.jumpgate.api.v1alpha1.HopState;
import dev.jumpgate.api.v1alpha1.JumpHost;

/**
 * One jump host on the way to the relay, as the agent found it at its last connection attempt.
 *
 * @param host        the hop's host, as the spec names it
 * @param port        its SSH port
 * @param state       how far the agent got with it
 * @param fingerprint SHA256 fingerprint of the host key it presented; null when it presented none
 * @param message     why it failed, for a person; null otherwise
 * @param keyRestricted whether the hop holds the tunnel's key to its line: it neither ran a command for it nor tried a
 *                    connection where the line permits none; false when it did either; null until checked
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record HopReport(String host, int port, HopState state, String fingerprint, String message,
        Boolean keyRestricted) {

    /** A hop not checked (yet) for what it lets the key do. */
    public HopReport(String host, int port, HopState state, String fingerprint, String message) {
        this(host, port, state, fingerprint, message, null);
    }

    /** The same hop with what the key check found there. */
    public HopReport withKeyRestricted(Boolean restricted) {
        return new HopReport(host, port, state, fingerprint, message, restricted);
    }

    /** Whether this report is of that jump host (a report made for an earlier spec's hops is not). */
    public boolean isOf(JumpHost hop) {
        return hop.getHost().equals(host) && hop.getPort() == port;
    }

    /** The same hop, failed for that reason, with the key it presented when it got that far. */
    public HopReport failed(String why, String presentedFingerprint) {
        return new HopReport(host, port, HopState.Failed, presentedFingerprint, why);
    }

    HopReport sanitized() {
        return new HopReport(ReportText.bounded(host, 253), port, state == null ? HopState.NotReached : state,
                ReportText.bounded(fingerprint, 128), ReportText.bounded(message, ReportText.MAX_MESSAGE), keyRestricted);
    }
}
