package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.report.HopReport;
import dev.jumpgate.ssh.PublicKeyLine;
import java.time.Duration;
import java.util.List;

/**
 * What {@link TunnelAgent} needs of one SSH session to the relay: whether it is alive, forwards bound and cancelled
 * on it, and the check of the key's restrictions. The connections that arrive through a bound forward are the
 * implementation's business from the relay's channel open to the target's close, counted in the forward's
 * {@link ForwardTraffic}; the agent only decides which forwards exist. {@link JschRelaySession} is the real one; the
 * agent's reconnect and forward logic is tested against a scripted one without sshd.
 */
interface RelaySession extends AutoCloseable {

    /**
     * The relay's host key as it presented it in this session; null when it presented a host certificate, which the
     * library checked against spec.relay.hostCertificateAuthorities without handing it over.
     */
    PublicKeyLine hostKey();

    /** The jump hosts this session goes through, each Connected; empty when it goes to the relay directly. */
    default List<HopReport> hops() {
        return List.of();
    }

    /**
     * The jump hosts' own sessions, first hop first, for the key check to ask each what it lets the key do (their
     * {@link #runsCommands} and {@link #connectFromRelay}); never closed by the caller. Empty without jump hosts.
     */
    default List<RelaySession> jumpHostSessions() {
        return List.of();
    }

    /** The relay's SSH identification string ("SSH-2.0-OpenSSH_9.2p1 Debian-2"), as it sent it. */
    String serverVersion();

    /** False once the session ended: lost, timed out by its keepalives, or closed. Never true again. */
    boolean isConnected();

    /**
     * Asks the relay to listen for the forward and to send its connections here, where they go to the forward's
     * target, counted and capped by {@code traffic}. Returns the port the relay listens on (the one it allocated when
     * the forward asks for port 0).
     */
    int bind(ForwardSpec forward, ForwardTraffic traffic) throws ForwardRefused;

    /** Stops the relay listening for the forward; connections already open through it stay open. */
    void cancel(ForwardSpec forward, int remotePort);

    /**
     * Whether the relay runs a command for this session's key: true means whoever holds the key has a shell there.
     * Null when the relay did not answer within the timeout: unknown, not safe.
     */
    Boolean runsCommands(Duration timeout);

    /**
     * Asks the relay to open a TCP connection from its own side to host:port and to carry it over this session (a
     * direct-tcpip channel, as {@code ssh -W host:port} opens). The end-to-end check connects this way to a forward's
     * own listen, which the key's line permits and nothing else.
     */
    RelayedConnection connectFromRelay(String host, int port, Duration timeout) throws RelayedConnection.Refused;

    /**
     * The connections through this session's forwards that are open now. A session the agent left for another relay
     * is closed once this is 0, so that leaving a relay cuts nobody's connection.
     */
    int openConnections();

    /** Ends the session and every connection through it. */
    @Override
    void close();
}
