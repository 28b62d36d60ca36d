package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class IdleHeapTrimTest {

    private final AtomicLong carried = new AtomicLong();
    private final IdleHeapTrim trim = new IdleHeapTrim(carried::get);

    @Test
    void collectsOnceWhenTheTrafficStopsAfterABurst() {
        carried.addAndGet(IdleHeapTrim.BURST_BYTES);
        assertThat(trim.collectNow()).as("still moving").isFalse();
        assertThat(trim.collectNow()).as("quiet after a burst").isTrue();
        assertThat(trim.collectNow()).as("still quiet: nothing new to give back").isFalse();
    }

    @Test
    void neverCollectsWhileTrafficFlows() {
        for (int i = 0; i < 100; i++) {
            carried.addAndGet(IdleHeapTrim.BURST_BYTES);
            assertThat(trim.collectNow()).isFalse();
        }
    }

    @Test
    void aTrickleLeavesTooLittleGarbageToCollectFor() {
        carried.addAndGet(IdleHeapTrim.BURST_BYTES / 2);
        trim.collectNow();
        assertThat(trim.collectNow()).isFalse();
        carried.addAndGet(IdleHeapTrim.BURST_BYTES / 2);
        trim.collectNow();
        assertThat(trim.collectNow()).as("the trickles add up to a burst").isTrue();
    }
}
