package dev.jumpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A forward's target for the tests, on loopback: each connection served by {@code handler} on a daemon thread of its
 * own (many connections at once, one slow connection holding no other), and closed when the handler returns.
 */
public final class TcpServer implements AutoCloseable {

    /** What the target does with one connection; an IOException is the peer going away. */
    public interface Handler {
        void serve(Socket socket) throws IOException;
    }

    private final ServerSocket server;
    private final String name;
    private final Handler handler;

    public TcpServer(String name, int backlog, Handler handler) {
        this(name, 0, backlog, handler);
    }

    /** A server on this port of loopback (0: any free one); a port a stopped server left is taken again at once. */
    public TcpServer(String name, int port, int backlog, Handler handler) {
        this.name = name;
        this.handler = handler;
        try {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), backlog);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::accept, name + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Thread serve = new Thread(() -> serve(socket), name);
                serve.setDaemon(true);
                serve.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            handler.serve(socket);
        } catch (IOException e) {
            // the peer went away
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
