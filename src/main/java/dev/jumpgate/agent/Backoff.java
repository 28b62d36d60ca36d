package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ReconnectSpec;
import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Waits between attempts: the n-th consecutive failure waits min x 2^n, capped at max, drawn from its upper half
 * ("equal jitter") so that many agents behind one relay outage do not come back in step. A failure that retrying
 * soon cannot fix (a refused login, a wrong host key) waits about the cap at once (its upper quarter, for the same
 * reason): never a tight loop.
 */
final class Backoff {

    private final long minMillis;
    private final long maxMillis;
    private final RandomGenerator random;
    private int failures;

    Backoff(Duration min, Duration max, RandomGenerator random) {
        this.minMillis = Math.max(1, min.toMillis());
        this.maxMillis = Math.max(minMillis, max.toMillis());
        this.random = random;
    }

    /** The backoff a tunnel's spec asks for. */
    static Backoff of(ReconnectSpec spec, RandomGenerator random) {
        return new Backoff(Duration.ofSeconds(spec.getMinBackoffSeconds()), Duration.ofSeconds(spec.getMaxBackoffSeconds()),
                random);
    }

    /** The wait after one more transient failure. */
    Duration next() {
        long ceiling = minMillis << Math.min(failures, 30);
        if (ceiling <= 0 || ceiling > maxMillis) {
            ceiling = maxMillis;
        }
        failures++;
        return draw(ceiling - ceiling / 2, ceiling, random);
    }

    /** The wait after a failure that only a change of spec, key or relay can fix. */
    Duration cap() {
        failures++;
        return draw(maxMillis - maxMillis / 4, maxMillis, random);
    }

    /** A period drawn from half to one and a half times {@code period}: polls of many agents drift out of step. */
    static Duration spread(Duration period, RandomGenerator random) {
        long half = period.toMillis() / 2;
        return draw(half, 3 * half, random);
    }

    /** Every jitter here: a wait drawn evenly from {@code lowest} to {@code highest} milliseconds. */
    private static Duration draw(long lowest, long highest, RandomGenerator random) {
        return Duration.ofMillis(lowest == highest ? lowest : lowest + random.nextLong(highest - lowest + 1));
    }

    /** After a connection that held: the next failure starts again from the minimum. */
    void reset() {
        failures = 0;
    }

    int failures() {
        return failures;
    }
}
