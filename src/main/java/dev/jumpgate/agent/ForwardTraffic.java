package dev.jumpgate.agent;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one forward, for metrics: they outlive sessions, as Prometheus counters must. */
public final class ForwardTraffic {

    private final AtomicLong bytesToTarget = new AtomicLong();
    private final AtomicLong bytesFromTarget = new AtomicLong();
    private final AtomicLong openConnections = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong refusedConnections = new AtomicLong();
    private final AtomicLong waitingForTarget = new AtomicLong();
    private volatile int maxConnections = Integer.MAX_VALUE;
    private final ConnectionBudget budget;

    /** Counters of a forward whose connections also count against the agent's budget for all its forwards. */
    ForwardTraffic(ConnectionBudget budget) {
        this.budget = budget;
    }

    /** Counters that read as zero, for a forward no agent holds. */
    public ForwardTraffic() {
        this(ConnectionBudget.unlimited());
    }

    /** The forward's cap (spec.forwards[].maxConnections); applies to connections opened from now on. */
    void limit(int max) {
        maxConnections = max;
    }

    /**
     * A place for one more connection, unless the forward holds its cap or the agent's forwards together hold its
     * budget ({@link ConnectionBudget#reserve}): then the connection is refused and counted. Every place taken is
     * given back with {@link #release()}.
     */
    boolean reserve() {
        if (budget.reserve(this)) {
            return true;
        }
        refusedConnections.incrementAndGet();
        return false;
    }

    void release() {
        budget.release(this);
    }

    /** The budget's bookkeeping of this forward's open connections. */
    void held(int change) {
        openConnections.addAndGet(change);
    }

    /** A connection reached its target. */
    void opened() {
        connections.incrementAndGet();
    }

    void sentToTarget(long bytes) {
        bytesToTarget.addAndGet(bytes);
    }

    /** Bytes from the relay queued in the agent for a target that has not taken them yet (negative: taken). */
    void waiting(long change) {
        waitingForTarget.addAndGet(change);
    }

    void receivedFromTarget(long bytes) {
        bytesFromTarget.addAndGet(bytes);
    }

    public long bytesToTarget() { return bytesToTarget.get(); }
    public long bytesFromTarget() { return bytesFromTarget.get(); }
    public long openConnections() { return openConnections.get(); }
    public long connections() { return connections.get(); }
    public long refusedConnections() { return refusedConnections.get(); }
    /** Bytes from the relay the agent holds now for slow targets: at most each connection's window. */
    public long bytesWaitingForTargets() { return waitingForTarget.get(); }
    public int maxConnections() { return maxConnections; }
    /** The connections all forwards of the agent may hold together. */
    public long connectionBudget() { return budget.max(); }
}
