package dev.jumpgate.agent;

/**
 * The bytes all forwarded connections of this JVM may have in flight from the relay beyond their minimum window:
 * what the relay may still send plus what waits in the agent for a slow target. Every connection's window beyond
 * {@link ReceiveWindow#MIN} is taken from here, so windows shrink (new ones open smaller, grown ones halve) as the
 * budget runs low, before the heap does. Without it, 2000 stalled connections at OpenSSH's 2 MiB window would be
 * 4 GiB in a pod of 256 MiB.
 */
final class WindowBudget {

    /** A sixth of the heap beyond the agent's own: connections take three quarters (ConnectionBudget). */
    static final double SHARE = 0.15;

    private final long capacity;
    private long available;

    WindowBudget(long capacity) {
        this.capacity = capacity;
        this.available = capacity;
    }

    static WindowBudget ofThisJvm() {
        return forHeap(Runtime.getRuntime().maxMemory());
    }

    static WindowBudget forHeap(long maxHeapBytes) {
        return new WindowBudget(Math.max(ReceiveWindow.INITIAL, (long) ((maxHeapBytes - ConnectionBudget.AGENT_BYTES) * SHARE)));
    }

    /** Up to {@code wanted} bytes, fewer (down to none) when the budget runs low. */
    synchronized long take(long wanted) {
        long granted = Math.max(0, Math.min(wanted, available));
        available -= granted;
        return granted;
    }

    synchronized void give(long bytes) {
        available = Math.min(capacity, available + bytes);
    }

    /** Less than an eighth left: grown windows give back half at their next turn instead of growing. */
    synchronized boolean pressed() {
        return available < capacity / 8;
    }

    synchronized long available() {
        return available;
    }
}
