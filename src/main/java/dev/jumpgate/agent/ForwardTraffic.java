package dev.jumpgate.agent;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one forward, for metrics: they outlive sessions, as Prometheus counters must. */
public final class ForwardTraffic {

    private final AtomicLong bytesToTarget = new AtomicLong();
    private final AtomicLong bytesFromTarget = new AtomicLong();
    private final AtomicLong openConnections = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();

    void opened() {
        connections.incrementAndGet();
        openConnections.incrementAndGet();
    }

    void closed() {
        openConnections.decrementAndGet();
    }

    void sentToTarget(long bytes) {
        bytesToTarget.addAndGet(bytes);
    }

    void receivedFromTarget(long bytes) {
        bytesFromTarget.addAndGet(bytes);
    }

    public long bytesToTarget() { return bytesToTarget.get(); }
    public long bytesFromTarget() { return bytesFromTarget.get(); }
    public long openConnections() { return openConnections.get(); }
    public long connections() { return connections.get(); }
}
