package dev.jumpgate.agent;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Gives the heap a burst of traffic grew back to the system once the tunnel is quiet again. A burst leaves the heap
 * grown by garbage and by the chunks pooled for the data path (agent/TargetWriter), which are let go first; the
 * serial collector gives memory back only after a full collection, which an idle agent never triggers by itself. One full collection
 * of the agent's small live set (a few MiB: milliseconds) when the traffic has stopped after a burst brings its
 * memory back to where it idled, so that what a pod holds is what it needs, not what its busiest minute left behind.
 * How far and how soon the heap shrinks are the JVM's MaxHeapFreeRatio and ShrinkHeapInSteps (agent.options).
 */
public final class IdleHeapTrim {

    /** Traffic since the last collection that makes one worth it: less leaves too little garbage to matter. */
    static final long BURST_BYTES = 64L << 20;
    static final long PERIOD_SECONDS = 2;

    private final LongSupplier bytesCarried;
    private long lastSeen;
    private long atLastCollection;

    IdleHeapTrim(LongSupplier bytesCarried) {
        this.bytesCarried = bytesCarried;
        this.lastSeen = bytesCarried.getAsLong();
        this.atLastCollection = lastSeen;
    }

    /** Called once a period: true when nothing moved since the last call and a burst moved since the last collection. */
    boolean collectNow() {
        long now = bytesCarried.getAsLong();
        boolean quiet = now == lastSeen;
        lastSeen = now;
        if (quiet && now - atLastCollection >= BURST_BYTES) {
            atLastCollection = now;
            return true;
        }
        return false;
    }

    /** Checks every {@link #PERIOD_SECONDS} on a daemon thread of its own, for the life of the process. */
    static void start(AgentRuntime runtime) {
        IdleHeapTrim trim = new IdleHeapTrim(runtime::bytesCarried);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jumpgate-heap-trim");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            if (trim.collectNow()) {
                TargetWriter.releasePooledChunks();
                System.gc();
            }
        }, PERIOD_SECONDS, PERIOD_SECONDS, TimeUnit.SECONDS);
    }
}
