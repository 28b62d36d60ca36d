package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), new Random(42));

    @Test
    void eachFailureDoublesTheCeilingAndWaitsInItsUpperHalf() {
        long[] ceilings = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
        for (long ceiling : ceilings) {
            assertThat(backoff.next().toMillis()).isBetween(ceiling / 2, ceiling);
        }
    }

    @Test
    void jitterSpreadsAgentsThatFailedTogether() {
        Backoff other = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), new Random(7));
        boolean differ = false;
        for (int i = 0; i < 5; i++) {
            differ |= !backoff.next().equals(other.next());
        }
        assertThat(differ).isTrue();
    }

    @Test
    void aFailureRetryingCannotFixWaitsAboutTheCapAtOnceNotInStepWithOtherAgents() {
        Backoff other = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), new Random(7));
        Duration first = backoff.cap();
        assertThat(first).isBetween(Duration.ofMillis(22_500), Duration.ofSeconds(30));
        assertThat(backoff.cap()).isBetween(Duration.ofMillis(22_500), Duration.ofSeconds(30));
        assertThat(other.cap()).isNotEqualTo(first);
    }

    @Test
    void aSpreadPeriodStaysWithinHalfAndOneAndAHalfTimesAndVaries() {
        Random random = new Random(3);
        java.util.Set<Duration> seen = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            Duration d = Backoff.spread(Duration.ofMillis(250), random);
            assertThat(d).isBetween(Duration.ofMillis(125), Duration.ofMillis(375));
            seen.add(d);
        }
        assertThat(seen).hasSizeGreaterThan(5);
    }

    @Test
    void resetStartsAgainFromTheMinimum() {
        for (int i = 0; i < 10; i++) {
            backoff.next();
        }
        backoff.reset();
        assertThat(backoff.next().toMillis()).isBetween(500L, 1000L);
    }

    @Test
    void theCeilingNeverOverflowsAfterManyFailures() {
        for (int i = 0; i < 100; i++) {
            backoff.next();
        }
        assertThat(backoff.next().toMillis()).isBetween(15_000L, 30_000L);
    }
}
