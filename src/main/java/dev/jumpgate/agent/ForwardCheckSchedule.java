package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardCheck;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * One bound forward's end-to-end checks ({@link EndToEndCheck}): the expectation and pace the spec asks for now, when
 * the next check is due, the one in flight and the last verdict. Each check runs on its own thread, since a check may
 * wait out its timeouts and the agent's loop must not; a verdict lands here and calls back, so that the loop's next
 * report carries it. Touched by the agent's thread, except the verdict, which the check's thread writes.
 */
final class ForwardCheckSchedule {

    private static final Logger LOG = Logger.getLogger(ForwardCheckSchedule.class);
    private static final Executor CHECKS = Executors.newCachedThreadPool(SshThreads.named("jumpgate-check"));

    /** A check's verdict, with the expectation it checked and when. */
    record Verdict(ForwardCheck mode, EndToEndCheck.Result result, Instant at) {
    }

    private final Clock clock;
    private final Runnable landed;
    private ForwardCheck mode;
    private Duration interval;
    private Instant next = Instant.MIN;
    private CompletableFuture<Void> running;
    private volatile Verdict last;

    ForwardCheckSchedule(Clock clock, Runnable landed) {
        this.clock = clock;
        this.landed = landed;
    }

    /**
     * Starts the forward's check when it is due (at once when the spec's expectation or pace changed). Returns how long
     * until the next one is due.
     */
    Duration runIfDue(RelaySession on, ForwardSpec spec, int port, TunnelConfig config, ForwardTraffic counters,
            Instant now) {
        ForwardCheck wanted = spec.checkMode();
        Duration pace = Duration.ofSeconds(config.spec().getCheck().getIntervalSeconds());
        if (wanted != mode || !pace.equals(interval)) {
            mode = wanted; // a new expectation or pace: check now, and forget a verdict on the old one
            interval = pace;
            next = now;
        }
        if (mode == ForwardCheck.None || running != null && !running.isDone()) {
            return interval;
        }
        if (now.isBefore(next)) {
            return Duration.between(now, next);
        }
        next = now.plus(interval);
        Duration timeout = Duration.ofSeconds(Math.min(config.spec().getCheck().getTimeoutSeconds(), interval.toSeconds()));
        String relayHost = config.spec().getRelay().getHost();
        ForwardCheck checking = mode;
        running = CompletableFuture.runAsync(() -> {
            try {
                EndToEndCheck.Result result = EndToEndCheck.run(on, spec, port, relayHost, counters, timeout);
                if (result == null) {
                    return; // the session ended under the check: the loop reconnects
                }
                counters.checked(result.reachable(), result.latencyMillis());
                Verdict before = last;
                if (before == null || before.result().reachable() != result.reachable()
                        || !before.result().reason().equals(result.reason())) {
                    if (result.reachable()) {
                        LOG.infof("forward %s reachable end to end (%d ms)", spec, result.latencyMillis());
                    } else {
                        LOG.warnf("forward %s not reachable end to end: %s: %s", spec, result.reason(), result.message());
                    }
                }
                last = new Verdict(checking, result, clock.instant());
                landed.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.warnf(e, "checking forward %s failed", spec);
            }
        }, CHECKS);
        return interval;
    }

    /** Whether the spec asks for checks of the forward (not before it was first bound, not with check None). */
    boolean on() {
        return mode != null && mode != ForwardCheck.None;
    }

    /** The last verdict, if made under the expectation the spec asks for now; null before one is. */
    Verdict current() {
        Verdict verdict = last;
        return on() && verdict != null && verdict.mode() == mode ? verdict : null;
    }
}
