package dev.jumpgate.agent;

import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.report.AgentReport;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Writes the agent's reports into its Lease, off the agent's thread so that a slow API server never holds the
 * tunnel: the newest report wins, and it is rewritten every {@link AgentContract#HEARTBEAT} so the operator can tell
 * a live agent from a gone one. Writes never pile up: while one is queued, a new report only replaces what it will write, and a
 * failed write leaves at most one retry pending (jittered, so that the agents of a cluster do not come back to a
 * recovering API server in step), however many reports arrive during the outage.
 */
final class LeaseReporter implements Consumer<AgentReport>, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(LeaseReporter.class);
    static final Duration RETRY = Duration.ofSeconds(5);

    private final KubernetesApi api;
    private final String namespace;
    private final String lease;
    private final String holder;
    private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "jumpgate-lease-reporter");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean writeQueued = new AtomicBoolean();
    private final Duration retry;
    private volatile AgentReport latest;
    private volatile boolean failing;
    /** The retry after a failed write, if one is pending; touched only on the writer thread. */
    private ScheduledFuture<?> pendingRetry;

    LeaseReporter(KubernetesApi api, String namespace, String lease, String holder) {
        this(api, namespace, lease, holder, AgentContract.HEARTBEAT, RETRY);
    }

    LeaseReporter(KubernetesApi api, String namespace, String lease, String holder, Duration heartbeat,
            Duration retry) {
        this.api = api;
        this.namespace = namespace;
        this.lease = lease;
        this.holder = holder;
        this.retry = retry;
        writer.scheduleWithFixedDelay(this::requestWrite, heartbeat.toMillis(), heartbeat.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void accept(AgentReport report) {
        AgentReport before = latest;
        latest = report;
        // A report that tells only newer check times (every check of every forward makes one) or the next connect
        // attempt (every failed one) waits for the heartbeat: a write per check would be a write per forward per
        // interval to the API server.
        if (!report.sameApartFromTimes(before)) {
            requestWrite();
        }
    }

    private void requestWrite() {
        if (latest != null && writeQueued.compareAndSet(false, true)) {
            writer.execute(this::write);
        }
    }

    private void write() {
        writeQueued.set(false);
        AgentReport report = latest;
        if (report == null) {
            return;
        }
        String now = Instant.now().truncatedTo(ChronoUnit.MICROS).toString();
        Map<String, Object> patch = Map.of(
                "metadata", Map.of("annotations", Map.of(AgentContract.REPORT_ANNOTATION,
                        Serialization.asJson(report.withHeartbeat(now)))),
                "spec", Map.of("holderIdentity", holder, "renewTime", now,
                        "leaseDurationSeconds", (int) AgentContract.STALE_AFTER.toSeconds()));
        try {
            api.mergePatchLease(namespace, lease, Serialization.asJson(patch));
            if (failing) {
                LOG.infof("reporting to Lease %s/%s again", namespace, lease);
                failing = false;
            }
        } catch (IOException | RuntimeException e) { // the writer thread must live on, whatever the failure
            if (!failing) {
                LOG.warnf("cannot write the report into Lease %s/%s (%s); retrying", namespace, lease, e.getMessage());
                failing = true;
            }
            if (pendingRetry == null || pendingRetry.isDone()) {
                long half = retry.toMillis() / 2;
                pendingRetry = writer.schedule(this::requestWrite, half + ThreadLocalRandom.current().nextLong(half * 2 + 1),
                        TimeUnit.MILLISECONDS);
            }
        }
    }

    @Override
    public void close() {
        // After the writes already queued (the last report among them), a retry still waiting is dropped: a reporter
        // left behind (its agent stopped, its pod no longer the one that serves) never writes over a newer report.
        writer.execute(() -> {
            if (pendingRetry != null) {
                pendingRetry.cancel(false);
            }
        });
        writer.shutdown();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
