import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A WAN in a process, for the benchmarks: a TCP proxy on loopback that hands every byte on a fixed time after it
 * arrived, each way, with no bandwidth cap (this kernel has no netem). Between a forwarder and the relay it turns
 * loopback into a path of 2 x delay round trip, where a window-bound protocol such as SSH's channels moves at most one
 * window per round trip.
 *
 * <p>Each direction of each connection is a reader that timestamps what it reads and a writer that writes it when it
 * is due; up to 256 MiB may be in flight per direction, far above what any tested window lets through, so that the
 * line delays and never limits. Run: {@code java bench/DelayLine.java LISTEN_PORT TARGET_PORT ONE_WAY_DELAY_MS}.
 */
public final class DelayLine {

    private static final int CHUNK = 256 * 1024;
    private static final int IN_FLIGHT_MAX = 256 * 1024 * 1024;

    private record Due(long atNanos, byte[] data, int length) {
    }

    public static void main(String[] args) throws IOException {
        int listen = Integer.parseInt(args[0]);
        int target = Integer.parseInt(args[1]);
        long delayNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[2]));
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listen), 128);
            System.out.println("delay line " + listen + " -> " + target + ", " + args[2] + " ms each way");
            System.out.flush();
            while (true) {
                Socket client = server.accept();
                start(() -> connect(client, target, delayNanos));
            }
        }
    }

    private static void connect(Socket client, int target, long delayNanos) {
        try {
            Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
            for (Socket s : new Socket[] {client, upstream}) {
                s.setTcpNoDelay(true);
            }
            AtomicInteger open = new AtomicInteger(2); // the directions not ended yet; at none, both sockets close
            pump(client, upstream, delayNanos, open);
            pump(upstream, client, delayNanos, open);
        } catch (IOException e) {
            close(client);
        }
    }

    /** Reads from {@code from}, writes to {@code to} what was read {@code delayNanos} earlier; EOF is passed on. */
    private static void pump(Socket from, Socket to, long delayNanos, AtomicInteger open) throws IOException {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        LinkedBlockingQueue<Due> line = new LinkedBlockingQueue<>();
        Semaphore room = new Semaphore(IN_FLIGHT_MAX);
        start(() -> {
            try {
                while (true) {
                    byte[] buffer = new byte[CHUNK];
                    int n = in.read(buffer);
                    if (n < 0) {
                        break;
                    }
                    room.acquire(n);
                    line.put(new Due(System.nanoTime() + delayNanos, buffer, n));
                }
            } catch (IOException | InterruptedException e) {
                // the connection ended: pass on what is in flight, then the end
            }
            line.add(new Due(System.nanoTime() + delayNanos, null, -1)); // the end, passed on when it is due
        });
        start(() -> {
            try {
                while (true) {
                    Due due = line.take();
                    long wait = due.atNanos() - System.nanoTime();
                    while (wait > 0) {
                        LockSupport.parkNanos(wait);
                        wait = due.atNanos() - System.nanoTime();
                    }
                    if (due.length() < 0) {
                        to.shutdownOutput();
                        if (open.decrementAndGet() == 0) {
                            close(from);
                            close(to);
                        }
                        break;
                    }
                    out.write(due.data(), 0, due.length());
                    room.release(due.length());
                }
            } catch (IOException | InterruptedException e) {
                close(from);
                close(to);
            }
        });
    }

    private static void start(Runnable task) {
        Thread thread = new Thread(task);
        thread.setDaemon(true);
        thread.start();
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing
        }
    }
}
