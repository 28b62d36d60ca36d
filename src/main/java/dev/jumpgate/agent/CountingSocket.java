package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.SocksSpec;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The agent's socket to a forward's target: counts the bytes each way and the connection while it is open. What the
 * relay sends goes to the target through a {@link TargetWriter}, never with a write on the session's thread.
 * The SSH library closes the socket by closing its streams, so the streams close the socket, once; data still
 * queued for the target is written first.
 */
final class CountingSocket extends Socket {

    private final ForwardTraffic traffic;
    private final Consumer<Socket> onClose;
    private final AtomicBoolean open = new AtomicBoolean();
    private final TargetWriter toTarget;
    private InputStream countingIn;

    private CountingSocket(ForwardTraffic traffic, Consumer<Socket> onClose, ForwardedChannel channel) {
        this.traffic = traffic;
        this.onClose = onClose;
        this.toTarget = new TargetWriter(channel.relay(), channel.window(), new TargetWriter.Target() {
            @Override
            public OutputStream output() throws IOException {
                return CountingSocket.super.getOutputStream();
            }

            @Override
            public void shutdownOutput() {
                try {
                    if (!isClosed() && !isOutputShutdown()) {
                        CountingSocket.super.shutdownOutput();
                    }
                } catch (IOException e) {
                    // the target is gone: the read side ends the connection
                }
            }

            @Override
            public void close() {
                closeNow();
            }
        }, traffic);
    }

    /**
     * Connects to the target for the forwarded connection being opened, unless the forward already holds its cap of
     * connections: then nothing is opened and the SSH library refuses the channel, so that the relay closes the
     * connection it accepted. A flood of connections into a public forward thus costs the agent a short-lived thread
     * each, not a thread and buffers held open.
     */
    static Socket connect(String host, int port, int timeoutMillis, ForwardTraffic traffic, Consumer<Socket> onClose,
            ForwardedChannel channel) throws IOException {
        return connect(host, port, timeoutMillis, traffic, onClose, channel, null);
    }

    /**
     * The same, to the SOCKS gateway when {@code socks} (a forward's rules) is given: from a port the gateway expects,
     * and serves under those rules.
     */
    static Socket connect(String host, int port, int timeoutMillis, ForwardTraffic traffic, Consumer<Socket> onClose,
            ForwardedChannel channel, SocksSpec socks) throws IOException {
        SocksGateway gateway = socks == null ? null : SocksGateway.get();
        if (channel == null) {
            throw new IOException("no forwarded connection is being opened on this thread");
        }
        traffic.arrived();
        if (!traffic.reserve()) {
            IOException full = new IOException("the forward holds its cap of " + traffic.maxConnections()
                    + " connections, or the agent's forwards together hold their budget of " + traffic.connectionBudget());
            traffic.targetFailed(full);
            throw full;
        }
        CountingSocket socket = new CountingSocket(traffic, onClose, channel);
        try {
            if (gateway != null) {
                gateway.expect(socket, socks);
            }
            TcpSockets.connect(socket, host, port, timeoutMillis);
        } catch (IOException | RuntimeException e) {
            if (gateway != null) {
                gateway.forget(socket);
            }
            traffic.release();
            traffic.targetFailed(e);
            throw e;
        }
        channel.adopt();
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

    /** The relay's side of the connection: queued, written by the connection's own thread; close() is the relay's EOF. */
    @Override
    public OutputStream getOutputStream() {
        return toTarget;
    }

    /**
     * Closes the connection; if data from the relay is still queued for the target, the read side closes now and the
     * rest once the data is written.
     */
    @Override
    public void close() throws IOException {
        if (open.get() && toTarget.closeWhenWritten()) {
            if (!isClosed() && !isInputShutdown()) {
                shutdownInput();
            }
            return;
        }
        closeNow();
    }

    private void closeNow() {
        if (open.getAndSet(false)) {
            toTarget.released();
            traffic.release();
            onClose.accept(this);
        }
        try {
            super.close();
        } catch (IOException e) {
            // closing: nothing to tell
        }
    }
}
