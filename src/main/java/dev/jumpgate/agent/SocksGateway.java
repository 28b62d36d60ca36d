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
 * forward are served, each under its forward's rules: each is made from 127.0.0.1 and a port registered here, with
 * the rules, before it connects ({@link #expect}; the agent's socket holds that address, so no other process can
 * bind it); any other connection is closed on at once, so the gateway is no open proxy on the host. When the agent
 * closes its end (the relay's connection ended), the gateway ends its pair at once ({@link #ended}): a target that
 * never speaks again does not hold a socket or a thread. One gateway per process, started on first use.
 */
final class SocksGateway {

    private static final Logger LOG = Logger.getLogger(SocksGateway.class);
    private static volatile SocksGateway instance;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** A client has this long for its greeting and request, all of it; the target this long to accept. */
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

    private final ServerSocket server;
    /** The agent's connections on their way, by source port: the rules each is served under. */
    private final Map<Integer, SocksSpec> expected = new ConcurrentHashMap<>();
    /** The connections being served, by the agent's source port: closed when the agent closes its end. */
    private final Map<Integer, Socket> serving = new ConcurrentHashMap<>();

    private SocksGateway() throws IOException {
        this.server = new ServerSocket(0, 512, LOOPBACK);
        SshThreads.start("jumpgate-socks-accept", this::acceptLoop);
    }

    /** The process's gateway, started on first use. */
    static synchronized SocksGateway get() {
        if (instance == null) {
            try {
                instance = new SocksGateway();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot listen on the loopback for a SOCKS forward", e);
            }
        }
        return instance;
    }

    String host() {
        return LOOPBACK.getHostAddress();
    }

    int port() {
        return server.getLocalPort();
    }

    /**
     * Binds a socket the agent is about to connect here with to a port of 127.0.0.1, which the gateway then serves
     * under these rules.
     */
    void expect(Socket socket, SocksSpec rules) throws IOException {
        socket.bind(new InetSocketAddress(LOOPBACK, 0));
        expected.put(socket.getLocalPort(), rules);
    }

    /** The socket's connect failed: its port is no longer expected. */
    void forget(Socket socket) {
        expected.remove(socket.getLocalPort());
    }

    /** The agent closed its end of the connection from this source port: the gateway ends its side and the target's. */
    void ended(int agentPort) {
        Socket client = serving.remove(agentPort);
        if (client != null) {
            closeQuietly(client);
        }
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
            SocksSpec rules = client.getInetAddress().equals(LOOPBACK) ? expected.remove(client.getPort()) : null;
            if (rules == null) {
                LOG.warnf("a connection to the SOCKS gateway from %s that the agent did not open: closed",
                        client.getRemoteSocketAddress());
                closeQuietly(client);
                continue;
            }
            serving.put(client.getPort(), client);
            SshThreads.start("jumpgate-socks", () -> {
                try {
                    serve(client, rules);
                } finally {
                    serving.remove(client.getPort(), client);
                }
            });
        }
    }

    /** One SOCKS5 client: greeting, request, the rules, the connection, then bytes both ways until either side ends. */
    private void serve(Socket client, SocksSpec rules) {
        Socket target = null;
        // The whole handshake within HANDSHAKE_MILLIS, however slowly the client sends it byte by byte.
        Thread deadline = SshThreads.start("jumpgate-socks-deadline", () -> {
            try {
                Thread.sleep(HANDSHAKE_MILLIS);
                closeQuietly(client);
            } catch (InterruptedException e) {
                // the handshake finished in time
            }
        });
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
            byte[] address;
            switch (type) {
                case 1, 4 -> address = new byte[type == 1 ? 4 : 16];
                case 3 -> address = new byte[in.readUnsignedByte()];
                default -> {
                    reply(out, ADDRESS_TYPE_NOT_SUPPORTED, null);
                    return;
                }
            }
            in.readFully(address);
            int port = in.readUnsignedShort();
            deadline.interrupt(); // the request is in; what follows is the agent's to bound
            if (command != 1) {
                reply(out, COMMAND_NOT_SUPPORTED, null); // CONNECT only: no BIND, no UDP ASSOCIATE; nothing looked up
                return;
            }
            InetAddress[] candidates;
            String asked;
            if (type == 3) {
                asked = new String(address, StandardCharsets.US_ASCII);
                try {
                    // A name that does not resolve gets the same refusal as one outside the rules: the relay's
                    // side learns nothing of the lab's DNS.
                    candidates = HOST_NAME.matcher(asked).matches() ? InetAddress.getAllByName(asked) : new InetAddress[0];
                } catch (UnknownHostException e) {
                    candidates = new InetAddress[0];
                }
            } else {
                candidates = new InetAddress[] {InetAddress.getByAddress(address)};
                asked = candidates[0].getHostAddress();
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
            deadline.interrupt();
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
