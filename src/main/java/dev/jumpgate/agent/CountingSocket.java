package dev.jumpgate.agent;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The agent's socket to a forward's target: counts the bytes each way and the connection while it is open.
 * The SSH library closes the socket by closing its streams, so the streams close the socket, once.
 */
final class CountingSocket extends Socket {

    private final ForwardTraffic traffic;
    private final Consumer<Socket> onClose;
    private final AtomicBoolean open = new AtomicBoolean();
    private InputStream countingIn;
    private OutputStream countingOut;

    private CountingSocket(ForwardTraffic traffic, Consumer<Socket> onClose) {
        this.traffic = traffic;
        this.onClose = onClose;
    }

    /**
     * Connects to the target, unless the forward already holds its cap of connections: then nothing is opened and the
     * SSH library refuses the channel, so that the relay closes the connection it accepted. A flood of connections
     * into a public forward thus costs the agent a short-lived thread each, not a thread and buffers held open.
     */
    static Socket connect(String host, int port, int timeoutMillis, ForwardTraffic traffic, Consumer<Socket> onClose)
            throws IOException {
        if (!traffic.reserve()) {
            throw new IOException("the forward holds its cap of " + traffic.maxConnections()
                    + " connections, or the agent's forwards together hold their budget of " + traffic.connectionBudget());
        }
        CountingSocket socket;
        try {
            socket = TcpSockets.connect(new CountingSocket(traffic, onClose), host, port, timeoutMillis);
        } catch (IOException | RuntimeException e) {
            traffic.release();
            throw e;
        }
        socket.open.set(true);
        traffic.opened();
        return socket;
    }

    @Override
    public synchronized InputStream getInputStream() throws IOException {
        if (countingIn == null) {
            countingIn = new FilterInputStream(super.getInputStream()) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        traffic.receivedFromTarget(1);
                    }
                    return b;
                }

                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    int n = super.read(buffer, offset, length);
                    if (n > 0) {
                        traffic.receivedFromTarget(n);
                    }
                    return n;
                }

                @Override
                public void close() throws IOException {
                    CountingSocket.this.close();
                }
            };
        }
        return countingIn;
    }

    @Override
    public synchronized OutputStream getOutputStream() throws IOException {
        if (countingOut == null) {
            countingOut = new FilterOutputStream(super.getOutputStream()) {
                @Override
                public void write(int b) throws IOException {
                    out.write(b);
                    traffic.sentToTarget(1);
                }

                @Override
                public void write(byte[] buffer, int offset, int length) throws IOException {
                    out.write(buffer, offset, length); // FilterOutputStream would write byte by byte
                    traffic.sentToTarget(length);
                }

                @Override
                public void close() throws IOException {
                    // The relay side sent EOF: half-close, as the target may still answer. The socket closes with
                    // the input stream, when the channel ends.
                    if (!isClosed() && !isOutputShutdown()) {
                        shutdownOutput();
                    }
                }
            };
        }
        return countingOut;
    }

    @Override
    public synchronized void close() throws IOException {
        if (open.getAndSet(false)) {
            traffic.release();
            onClose.accept(this);
        }
        super.close();
    }
}
