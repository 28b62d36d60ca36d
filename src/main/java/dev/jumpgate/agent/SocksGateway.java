package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.SocksSpec;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The agent's SOCKS5 server (RFC 1928) for reverse SOCKS forwards (spec.forwards[].socks), as {@code ssh -R port}
 * with no target makes ssh one. A SOCKS forward's target is this gateway: the relay's connections reach it through
 * the forward's usual path (counted, capped, windowed like any target's), and it connects where the client asks,
 * only within the spec's networks and ports; a name is resolved here and every address it gives is checked.
 *
 * <p>It listens on this host's loopback, on a port the system picks. Only connections the agent itself opened for a
 * forward are served: each is made from a loopback port registered here before it connects ({@link #expect}); any
 * other process of the host that finds the port is closed on at once, so the gateway is no open proxy on the host.
 * One gateway per distinct rule set, for the life of the process (a listening socket and its accept thread).
 */
final class SocksGateway {

    private static final Logger LOG = Logger.getLogger(SocksGateway.class);
    private static final Map<SocksSpec, SocksGateway> OPEN = new ConcurrentHashMap<>();
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** A client has this long for its greeting and request; the target this long to accept. */
    static final int HANDSHAKE_MILLIS = 10_000;
    static final int CONNECT_MILLIS = 10_000;
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9.\\-_]{1,253}");

    // RFC 1928 replies
    static final int SUCCEEDED = 0x00;
    static final int GENERAL_FAILURE = 0x01;
    static final int NOT_ALLOWED = 0x02;
    static final int HOST_UNREACHABLE = 0x04;
    static final int CONNECTION_REFUSED = 0x05;
    static final int COMMAND_NOT_SUPPORTED = 0x07;
    static final int ADDRESS_TYPE_NOT_SUPPORTED = 0x08;

    private final SocksSpec rules;
    private final ServerSocket server;
    private final Set<Integer> expected = ConcurrentHashMap.newKeySet();

    private SocksGateway(SocksSpec rules) throws IOException {
        this.rules = rules;
        this.server = new ServerSocket(0, 512, LOOPBACK);
        SshThreads.start("jumpgate-socks-accept", this::acceptLoop);
    }

    /** The gateway for these rules, started on first use. */
    static SocksGateway forRules(SocksSpec rules) {
        return OPEN.computeIfAbsent(rules, r -> {
            try {
                return new SocksGateway(r);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot listen on the loopback for a SOCKS forward", e);
            }
        });
    }

    String host() {
        return LOOPBACK.getHostAddress();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Binds a socket the agent is about to connect here with to a loopback port, which the gateway then serves. */
    void expect(Socket socket) throws IOException {
        socket.bind(new InetSocketAddress(LOOPBACK, 0));
        expected.add(socket.getLocalPort());
    }

    /** The socket's connect failed: its port is no longer expected. */
    void forget(Socket socket) {
        expected.remove(socket.getLocalPort());
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.warnf("the SOCKS gateway stopped accepting: %s", e.getMessage());
                }
                return;
            }
            if (!client.getInetAddress().isLoopbackAddress() || !expected.remove(client.getPort())) {
                LOG.warnf("a connection to the SOCKS gateway from %s that the agent did not open: closed",
                        client.getRemoteSocketAddress());
                closeQuietly(client);
                continue;
            }
            SshThreads.start("jumpgate-socks", () -> serve(client));
        }
    }

    /** One SOCKS5 client: greeting, request, the rules, the connection, then bytes both ways until either side ends. */
    void serve(Socket client) {
        Socket target = null;
        try {
            client.setSoTimeout(HANDSHAKE_MILLIS);
            DataInputStream in = new DataInputStream(client.getInputStream());
            OutputStream out = client.getOutputStream();
            if (in.readUnsignedByte() != 5) {
                return; // not SOCKS5: nothing to answer in its language
            }
            byte[] methods = new byte[in.readUnsignedByte()];
            in.readFully(methods);
            if (!contains(methods, (byte) 0x00)) {
                out.write(new byte[] {5, (byte) 0xFF}); // the only method offered: no authentication
                return;
            }
            out.write(new byte[] {5, 0});
            if (in.readUnsignedByte() != 5) {
                return;
            }
            int command = in.readUnsignedByte();
            in.readUnsignedByte(); // reserved
            int type = in.readUnsignedByte();
            InetAddress[] candidates;
            String asked;
            switch (type) {
                case 1, 4 -> {
                    byte[] address = new byte[type == 1 ? 4 : 16];
                    in.readFully(address);
                    candidates = new InetAddress[] {InetAddress.getByAddress(address)};
                    asked = candidates[0].getHostAddress();
                }
                case 3 -> {
                    byte[] name = new byte[in.readUnsignedByte()];
                    in.readFully(name);
                    asked = new String(name, StandardCharsets.US_ASCII);
                    if (!HOST_NAME.matcher(asked).matches()) {
                        reply(out, HOST_UNREACHABLE, null);
                        return;
                    }
                    try {
                        candidates = InetAddress.getAllByName(asked);
                    } catch (UnknownHostException e) {
                        reply(out, HOST_UNREACHABLE, null);
                        return;
                    }
                }
                default -> {
                    reply(out, ADDRESS_TYPE_NOT_SUPPORTED, null);
                    return;
                }
            }
            int port = in.readUnsignedShort();
            if (command != 1) {
                reply(out, COMMAND_NOT_SUPPORTED, null); // CONNECT only: no BIND, no UDP ASSOCIATE
                return;
            }
            InetAddress allowed = null;
            for (InetAddress candidate : candidates) {
                if (rules.allows(candidate, port)) {
                    allowed = candidate;
                    break;
                }
            }
            if (allowed == null) {
                LOG.infof("SOCKS: %s:%d refused: not in %s", asked, port, rules);
                reply(out, NOT_ALLOWED, null);
                return;
            }
            target = new Socket();
            try {
                target.connect(new InetSocketAddress(allowed, port), CONNECT_MILLIS);
                target.setTcpNoDelay(true);
            } catch (ConnectException e) {
                reply(out, CONNECTION_REFUSED, null);
                return;
            } catch (SocketTimeoutException e) {
                reply(out, HOST_UNREACHABLE, null);
                return;
            } catch (IOException e) {
                reply(out, HOST_UNREACHABLE, null);
                return;
            }
            reply(out, SUCCEEDED, target);
            client.setSoTimeout(0);
            relay(client, target);
        } catch (EOFException | SocketTimeoutException e) {
            LOG.debugf("SOCKS client gave up or stalled in its handshake: %s", e.getMessage());
        } catch (IOException e) {
            LOG.debugf("SOCKS connection ended: %s", e.getMessage());
        } finally {
            closeQuietly(client);
            if (target != null) {
                closeQuietly(target);
            }
        }
    }

    /** Bytes both ways: this thread one way, a second the other; each end's close is passed on as a half-close. */
    private static void relay(Socket client, Socket target) throws IOException {
        Thread back = SshThreads.start("jumpgate-socks-back", () -> pump(target, client));
        pump(client, target);
        try {
            back.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream(); // not closed here: closing a socket's stream closes the socket
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(to); // a reset on one side ends the other
        }
    }

    private static void reply(OutputStream out, int code, Socket bound) throws IOException {
        byte[] address = bound == null ? new byte[4] : bound.getLocalAddress().getAddress();
        int port = bound == null ? 0 : bound.getLocalPort();
        byte[] message = new byte[6 + address.length];
        message[0] = 5;
        message[1] = (byte) code;
        message[3] = (byte) (address.length == 4 ? 1 : 4);
        System.arraycopy(address, 0, message, 4, address.length);
        message[4 + address.length] = (byte) (port >> 8);
        message[5 + address.length] = (byte) port;
        out.write(message);
        out.flush();
    }

    private static boolean contains(byte[] values, byte value) {
        for (byte b : values) {
            if (b == value) {
                return true;
            }
        }
        return false;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing
        }
    }
}
