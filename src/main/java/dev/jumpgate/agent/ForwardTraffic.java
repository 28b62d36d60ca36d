package dev.jumpgate.agent;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

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
    /** What an end-to-end check waits to see happen: guarded by itself, as a check waits on it. */
    private final Object arrivals = new Object();
    private Sightings sightings = new Sightings(0, 0, 0, null);
    private final AtomicLong checksPassed = new AtomicLong();
    private final AtomicLong checksFailed = new AtomicLong();
    /** Connections an end-to-end check has asked the relay for that have not reached the target yet. */
    private final AtomicInteger checkConnectionsExpected = new AtomicInteger();
    /** The last passed check's round trip. */
    private volatile long checkLatencyMillis;

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

    /**
     * A connection reached its target. One an end-to-end check asked for is not counted as a connection carried for
     * a user (the checks have their own count): a counter must never go back, so it is told apart here, before it
     * counts. (A user's connection that lands in the check's moment may be left out instead of the check's: the
     * count stays right.)
     */
    void opened() {
        if (checkConnectionsExpected.getAndUpdate(n -> Math.max(0, n - 1)) == 0) {
            connections.incrementAndGet();
        }
        see(s -> new Sightings(s.arrivals(), s.connected() + 1, s.failures(), s.lastFailure()));
    }

    /** An end-to-end check is about to ask the relay for a connection to this forward. */
    void expectCheckConnection() {
        checkConnectionsExpected.incrementAndGet();
    }

    /** The check is over: a connection it asked for that never reached the target is expected no more. */
    void checkOver() {
        checkConnectionsExpected.set(0);
    }

    /** The relay handed the agent a connection for this forward; {@link #opened} or {@link #targetFailed} follows. */
    void arrived() {
        see(s -> new Sightings(s.arrivals() + 1, s.connected(), s.failures(), s.lastFailure()));
    }

    /** A connection that arrived could not be given to the target: why, for the next check to tell. */
    void targetFailed(Exception why) {
        see(s -> new Sightings(s.arrivals(), s.connected(), s.failures() + 1, why));
    }

    private void see(UnaryOperator<Sightings> change) {
        synchronized (arrivals) {
            sightings = change.apply(sightings);
            arrivals.notifyAll();
        }
    }

    /** Counts of connections that arrived, reached their target, or failed to, since the agent started. */
    record Sightings(long arrivals, long connected, long failures, Exception lastFailure) {
    }

    Sightings sightings() {
        synchronized (arrivals) {
            return sightings;
        }
    }

    /**
     * Waits until the sightings differ from {@code since} in a way {@code done} accepts, or until the deadline
     * (System.nanoTime()); returns the sightings then.
     */
    Sightings awaitSightings(Predicate<Sightings> done, long deadlineNanos)
            throws InterruptedException {
        synchronized (arrivals) {
            long left;
            while (!done.test(sightings) && (left = deadlineNanos - System.nanoTime()) > 0) {
                arrivals.wait(Math.max(1, left / 1_000_000));
            }
            return sightings;
        }
    }

    /** The outcome of an end-to-end check of the forward, for metrics. */
    void checked(boolean passed, long latencyMillis) {
        (passed ? checksPassed : checksFailed).incrementAndGet();
        if (passed) {
            checkLatencyMillis = latencyMillis;
        }
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
    public long checksPassed() { return checksPassed.get(); }
    public long checksFailed() { return checksFailed.get(); }
    /** The round trip of the last check that passed. */
    public long checkLatencyMillis() { return checkLatencyMillis; }
    /** The connections all forwards of the agent may hold together. */
    public long connectionBudget() { return budget.max(); }
}
