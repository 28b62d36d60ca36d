package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardCheck;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.report.ReportText;
import dev.jumpgate.ssh.AuthorizedKeyLine;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One end-to-end check of a bound forward, the path a laptop's connection takes: the agent asks the relay to connect,
 * from its own side, to the forward's listen (the relay's own address for a wildcard listen, as the Internet sees it);
 * the connection must come back through this agent's forward and reach the target, and the target must answer as the
 * forward's {@link ForwardCheck} expects. Where it breaks, the result names the place: the relay's permission, its
 * listener (loopback only, filtered, someone else's), the target, or the target's answer.
 *
 * <p>The relay's key line allows exactly these connections (AuthorizedKeyLine: the forwards' own listens, nothing
 * else). A check costs one short connection per interval: a channel open, the target's connect and banner, a close.
 */
final class EndToEndCheck {

    /** What the relay calls its own loopback when a wildcard listen is bound there only (sshd's GatewayPorts no). */
    static final String LOOPBACK = AuthorizedKeyLine.LOOPBACK;
    private static final int BANNER_BYTES = 255; // RFC 4253 4.2: an identification line is at most 255 characters

    /** The outcome: reachable or not, the forward's reason and message, the round trip, and where it found the listen. */
    record Result(boolean reachable, String reason, String message, long latencyMillis, String listeningOn) {
    }

    private EndToEndCheck() {
    }

    /**
     * Runs the check: blocks for at most a few timeouts. Null when the session ended under it (the agent's loop sees
     * that and reconnects; the forward has no verdict to give).
     */
    static Result run(RelaySession session, ForwardSpec forward, int remotePort, String relayHost,
            ForwardTraffic traffic, Duration timeout) throws InterruptedException {
        try {
            return check(session, forward, remotePort, relayHost, traffic, timeout);
        } finally {
            traffic.checkOver();
        }
    }

    private static Result check(RelaySession session, ForwardSpec forward, int remotePort, String relayHost,
            ForwardTraffic traffic, Duration timeout) throws InterruptedException {
        // Where the key's line lets the check connect: one rule for both (AuthorizedKeyLine.Listen).
        AuthorizedKeyLine.Listen bound = new AuthorizedKeyLine.Listen(forward.getRemote().getBindAddress(), remotePort);
        String host = bound.checkHost(relayHost);
        String listen = address(host, remotePort);
        ForwardTraffic.Sightings before = traffic.sightings();
        long start = System.nanoTime();
        RelayedConnection connection;
        try {
            traffic.expectCheckConnection();
            connection = session.connectFromRelay(host, remotePort, timeout);
        } catch (RelayedConnection.Refused refused) {
            return switch (refused.kind()) {
                case SESSION_LOST -> null;
                case PROHIBITED -> new Result(false, Reasons.CHECK_NOT_PERMITTED, "the relay refused to open the check's "
                        + "connection to " + listen + ": the key's authorized_keys line predates end-to-end checks "
                        + "(replace it with status.authorizedKey), or sshd forbids -L for the account (the README's "
                        + "Match block has AllowTcpForwarding yes); or set check: None on the forward", 0, null);
                default -> listenerFailure(session, bound, listen, refused, traffic, timeout);
            };
        }
        try (connection) {
            return throughTheAgent(connection, forward, listen, traffic, before, start, timeout);
        }
    }

    /** The relay's connect to the listen failed: tell a loopback-only listen from a filtered or missing one. */
    private static Result listenerFailure(RelaySession session, AuthorizedKeyLine.Listen bound, String listen,
            RelayedConnection.Refused refused, ForwardTraffic traffic, Duration timeout) {
        int remotePort = bound.port();
        boolean timedOut = refused.kind() == RelayedConnection.Refused.Kind.TIMEOUT;
        String how = timedOut ? "timed out after " + timeout.toSeconds() + " s" : "was refused";
        if (bound.wildcard()) {
            String loopback = address(LOOPBACK, remotePort);
            traffic.expectCheckConnection();
            try (RelayedConnection viaLoopback = session.connectFromRelay(LOOPBACK, remotePort, timeout)) {
                if (!timedOut) {
                    return new Result(false, Reasons.LISTENER_LOOPBACK_ONLY, "the relay listens on " + loopback
                            + " only: a connection on the relay to " + listen + " was refused. Its sshd binds remote "
                            + "forwards to loopback (GatewayPorts no): set GatewayPorts clientspecified for the tunnels' "
                            + "account (the README's Match block)", 0, loopback);
                }
                return new Result(false, Reasons.LISTENER_UNREACHABLE, "a connection on the relay to " + listen + " "
                        + how + " while " + loopback + " answers: a firewall on the relay drops connections to the "
                        + "port", 0, loopback);
            } catch (RelayedConnection.Refused alsoRefused) {
                // neither address: the listener itself is gone or filtered everywhere
            }
        }
        return new Result(false, Reasons.LISTENER_UNREACHABLE, "the relay accepted the forward, but a connection on "
                + "the relay to " + listen + " " + how + ": a firewall on the relay, or a listener that is gone", 0, null);
    }

    /** The relay took the connection: it must arrive through this agent's forward and reach the target. */
    private static Result throughTheAgent(RelayedConnection connection, ForwardSpec forward, String listen,
            ForwardTraffic traffic, ForwardTraffic.Sightings before, long start, Duration timeout)
            throws InterruptedException {
        long deadline = start + timeout.toNanos();
        ForwardTraffic.Sightings seen = traffic.awaitSightings(s -> s.connected() > before.connected()
                || s.failures() > before.failures(), deadline);
        if (seen.arrivals() == before.arrivals()) {
            return new Result(false, Reasons.NOT_LOOPED, "something on the relay at " + listen + " took the check's "
                    + "connection, but it never came through this agent's forward: another process, or an earlier "
                    + "session's listener, holds that address", 0, listen);
        }
        if (seen.connected() == before.connected()) {
            if (seen.failures() == before.failures()) {
                return new Result(false, Reasons.TARGET_TIMEOUT, "the check's connection came through the relay, "
                        + "but the agent's connection to " + forward.destination() + " did not complete in "
                        + timeout.toSeconds() + " s", 0, listen);
            }
            return targetFailure(forward, seen.lastFailure(), listen);
        }
        long connectedAt = System.nanoTime();
        if (forward.checkMode() == ForwardCheck.Connect) {
            return new Result(true, Reasons.REACHABLE, "a connection on the relay to " + listen + " reached "
                    + forward.destination() + " through the agent", millis(connectedAt - start), listen);
        }
        return banner(connection, forward, listen, start, Duration.ofNanos(Math.max(deadline - connectedAt,
                timeout.toNanos() / 2)));
    }

    /** The target must send an SSH identification line first, as sshd does. */
    private static Result banner(RelayedConnection connection, ForwardSpec forward, String listen, long start,
            Duration wait) {
        byte[] said;
        try {
            said = connection.read(BANNER_BYTES, wait);
        } catch (IOException e) {
            said = new byte[0];
        }
        if (said != null && said.length > 0 && new String(said, StandardCharsets.US_ASCII).startsWith("SSH-")) {
            return new Result(true, Reasons.REACHABLE, "a connection on the relay to " + listen + " reached the SSH "
                    + "server at " + forward.destination() + " through the agent", millis(System.nanoTime() - start),
                    listen);
        }
        String answer = said == null ? "sent nothing in " + wait.toSeconds() + " s"
                : said.length == 0 ? "closed the connection without a word"
                : "answered \"" + ReportText.bounded(new String(said, StandardCharsets.US_ASCII).strip(), 40) + "\"";
        return new Result(false, Reasons.TARGET_UNEXPECTED_ANSWER, forward.destination() + " took the check's connection "
                + "but " + answer + " instead of an SSH banner; set the forward's check to Connect if it is not an SSH "
                + "server", 0, listen);
    }

    private static Result targetFailure(ForwardSpec forward, Exception why, String listen) {
        String detail = why == null ? "unknown" : ReportText.rootMessage(why, ReportText.MAX_RELAY_TEXT);
        Throwable root = why == null ? null : ReportText.rootCause(why);
        String reason = root instanceof ConnectException ? Reasons.TARGET_REFUSED
                : root instanceof SocketTimeoutException ? Reasons.TARGET_TIMEOUT
                : why != null && why.getMessage() != null && why.getMessage().startsWith("the forward holds its cap")
                        ? Reasons.CONNECTIONS_REFUSED
                : Reasons.TARGET_UNREACHABLE;
        return new Result(false, reason, "the check's connection came through the relay, but the agent could not "
                + "connect to " + forward.destination() + ": " + detail, 0, listen);
    }

    private static String address(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static long millis(long nanos) {
        return Math.max(1, nanos / 1_000_000);
    }
}
