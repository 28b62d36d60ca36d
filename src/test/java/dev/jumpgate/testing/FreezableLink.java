package dev.jumpgate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP link on loopback to {@code 127.0.0.1:target} that can go silent the way a lost node does: nothing closed,
 * nothing answered. {@link #freezeOpen} silences the connections open now (new ones pass: another pod's),
 * {@link #freezeAll} every connection, new ones too; {@link #thaw} lets the held bytes go on.
 */
public final class FreezableLink implements AutoCloseable {

    private final int target;
    private final TcpServer server;
    private final List<Pair> pairs = new CopyOnWriteArrayList<>();
    private volatile boolean allFrozen;

    public FreezableLink(int target) {
        this.target = target;
        this.server = new TcpServer("freezable-link", 50, this::link);
    }

    public int port() {
        return server.port();
    }

    /** The connections open now carry nothing more, either way, and are not closed. */
    public void freezeOpen() {
        pairs.forEach(pair -> pair.frozen = true);
    }

    /** As {@link #freezeOpen}, and connections made from now on are accepted and carry nothing either. */
    public void freezeAll() {
        allFrozen = true;
        freezeOpen();
    }

    public void thaw() {
        allFrozen = false;
        pairs.forEach(pair -> {
            synchronized (pair) {
                pair.frozen = false;
                pair.notifyAll();
            }
        });
    }

    private void link(Socket client) throws IOException {
        try (Socket upstream = new Socket()) {
            upstream.connect(new InetSocketAddress("127.0.0.1", target), 5_000);
            Pair pair = new Pair();
            pair.frozen = allFrozen;
            pairs.add(pair);
            try {
                Thread back = new Thread(() -> pump(pair, upstream, client), "freezable-link-back");
                back.setDaemon(true);
                back.start();
                pump(pair, client, upstream);
            } finally {
                pairs.remove(pair);
            }
        }
    }

    /**
     * Copies {@code from} to {@code to}, holding each read while the pair is frozen; closes both at the end, and not
     * while frozen either: a lost node's peer is never told that the other side went away.
     */
    private static void pump(Pair pair, Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (from; to) {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
                pair.awaitThaw();
                out.write(buffer, 0, n);
                out.flush();
            }
            pair.awaitThaw();
        } catch (IOException e) {
            pair.awaitThaw(); // one side went away: both are closed, once the link carries news again
        }
    }

    private static final class Pair {
        volatile boolean frozen;

        synchronized void awaitThaw() {
            while (frozen) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        thaw();
        server.close();
    }
}
