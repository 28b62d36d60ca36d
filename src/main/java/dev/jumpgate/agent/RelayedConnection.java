package dev.jumpgate.agent;

import java.io.IOException;
import java.time.Duration;

/** A TCP connection the relay opened from its own side at the agent's request (a direct-tcpip channel, as ssh -W). */
interface RelayedConnection extends AutoCloseable {

    /**
     * The next bytes from the far end, at most {@code max}: waits for the first of them until the timeout. Empty at
     * the end of the stream; null when nothing came in time.
     */
    byte[] read(int max, Duration timeout) throws IOException;

    @Override
    void close();

    /** Why the relay did not open the connection. */
    final class Refused extends Exception {

        /** As the relay answered (RFC 4254's reason codes), or did not. */
        enum Kind {
            /** The key's permitopen or sshd's AllowTcpForwarding/PermitOpen forbid it. */
            PROHIBITED,
            /** The relay tried and its connect failed (nothing listens there, or a firewall rejects it). */
            CONNECT_FAILED,
            /** No answer in time: the relay's connect hangs (a firewall dropping it). */
            TIMEOUT,
            /** The session ended. */
            SESSION_LOST
        }

        private final Kind kind;

        Refused(Kind kind, String message) {
            super(message);
            this.kind = kind;
        }

        Kind kind() {
            return kind;
        }
    }
}
