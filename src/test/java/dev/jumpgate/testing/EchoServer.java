package dev.jumpgate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/** A forward's target: echoes every byte back on each connection, many connections at once. */
public final class EchoServer implements AutoCloseable {

    private final AtomicInteger accepted = new AtomicInteger();
    private final TcpServer server = new TcpServer("echo", 512, socket -> {
        accepted.incrementAndGet();
        echo(socket);
    });

    public int port() {
        return server.port();
    }

    /** Connections served so far. */
    public int connectionsAccepted() {
        return accepted.get();
    }

    private static void echo(Socket socket) throws IOException {
        try (InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
            byte[] buffer = new byte[32 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
