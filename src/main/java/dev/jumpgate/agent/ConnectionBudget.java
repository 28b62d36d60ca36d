package dev.jumpgate.agent;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The connections all forwards of all the tunnels of one agent process may hold open together, derived from the memory its JVM may use. Each
 * forward has its own cap (spec.forwards[].maxConnections), but several flooded forwards could still add up past the
 * pod's memory limit, and then the JVM exits (ExitOnOutOfMemoryError) and the tunnel with it. Past the budget a new
 * connection is refused exactly as past a forward's cap.
 *
 * <p>A budget shared without rules would let a flood into one public forward take every place and lock out the
 * others: each forward is therefore promised a few places (a quarter of an even share) that no other forward may
 * take, and the rest is first come, first served.
 */
final class ConnectionBudget {

    /**
     * Measured with 2000 connections held (bench flood): the SSH library's 32 KiB packet buffer, the rest besides,
     * 40 KiB; plus the window every connection has whatever the {@link WindowBudget}, which a stalled target fills.
     */
    static final long BYTES_PER_VIRTUAL_THREAD_CONNECTION = 40 * 1024 + ReceiveWindow.MIN;
    /** On Java 17 each connection also holds a platform thread, whose stack lives outside the heap but in the pod. */
    static final long BYTES_PER_PLATFORM_THREAD_CONNECTION = 160 * 1024 + ReceiveWindow.MIN;
    /** The agent's own live heap without connections (about 11 MiB measured) and room to spare. */
    static final long AGENT_BYTES = 16 * 1024 * 1024;
    /** Connections may fill three quarters of what is left: a heap kept fuller spends its time collecting. */
    static final double FILL = 0.75;

    private final long max;
    private long open;
    private final Map<Object, List<ForwardTraffic>> byTunnel = new HashMap<>();
    private List<ForwardTraffic> forwards = List.of();

    ConnectionBudget(long max) {
        this.max = max;
    }

    /** The budget of this JVM: its maximum heap, the threads its connections run on. */
    static ConnectionBudget ofThisJvm() {
        long perConnection = SshThreads.virtual() ? BYTES_PER_VIRTUAL_THREAD_CONNECTION
                : BYTES_PER_PLATFORM_THREAD_CONNECTION;
        return new ConnectionBudget(forHeap(Runtime.getRuntime().maxMemory(), perConnection));
    }

    static long forHeap(long maxHeapBytes, long bytesPerConnection) {
        return Math.max(16, (long) ((maxHeapBytes - AGENT_BYTES) * FILL) / bytesPerConnection);
    }

    static ConnectionBudget unlimited() {
        return new ConnectionBudget(Long.MAX_VALUE);
    }

    /**
     * The forwards of one tunnel's config applied now: each forward of every tunnel in the process is promised its
     * places, so a flood through one tunnel of a pool cannot take the places of another's; those of forwards (and
     * tunnels) gone are freed.
     */
    synchronized void shareAmong(Object tunnel, List<ForwardTraffic> current) {
        if (current.isEmpty()) {
            byTunnel.remove(tunnel);
        } else {
            byTunnel.put(tunnel, List.copyOf(current));
        }
        forwards = byTunnel.values().stream().flatMap(List::stream).toList();
    }

    /**
     * A place for one more connection of {@code forward}: false when the forward holds its cap, when the budget is
     * spent, or when what is left is promised to the other forwards. Each place taken is given back with
     * {@link #release}. The forward's count and the budget's move together, under this lock.
     */
    synchronized boolean reserve(ForwardTraffic forward) {
        long held = forward.openConnections();
        if (held >= forward.maxConnections() || open >= max) {
            return false;
        }
        long promise = promise();
        long promisedToOthers = 0;
        for (ForwardTraffic other : forwards) {
            if (other != forward) {
                promisedToOthers += Math.max(0, Math.min(promise, other.maxConnections()) - other.openConnections());
            }
        }
        if (held >= promise && open + promisedToOthers >= max) {
            return false;
        }
        open++;
        forward.held(+1);
        return true;
    }

    synchronized void release(ForwardTraffic forward) {
        open--;
        forward.held(-1);
    }

    /** The places each forward can count on, whatever the others do (no more than its own cap, though). */
    private long promise() {
        return forwards.isEmpty() || max == Long.MAX_VALUE ? 0 : Math.max(1, max / (4L * forwards.size()));
    }

    long max() {
        return max;
    }
}
