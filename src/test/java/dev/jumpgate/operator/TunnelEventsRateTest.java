package dev.jumpgate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Tier 1: a forward whose path flaps gets a few reachability Events, not one per flap; each forward its own count. */
class TunnelEventsRateTest {

    private final TunnelEvents events = new TunnelEvents();
    private final Instant start = Instant.parse("2026-12-01T00:00:00Z");

    @Test
    void aFlappingForwardGetsAtMostItsQuotaOfEventsPerWindowAndAnotherForwardKeepsItsOwn() {
        for (int i = 0; i < TunnelEvents.REACHABILITY_EVENTS; i++) {
            assertThat(events.allowed("uid/ssh", start.plusSeconds(i))).isTrue();
        }
        assertThat(events.allowed("uid/ssh", start.plusSeconds(60))).as("past the quota").isFalse();
        assertThat(events.allowed("uid/web", start.plusSeconds(60))).as("another forward").isTrue();

        Instant later = start.plus(TunnelEvents.REACHABILITY_WINDOW).plusSeconds(1);
        assertThat(events.allowed("uid/ssh", later)).as("once the first Event left the window").isTrue();
        assertThat(events.allowed("uid/ssh", later)).isFalse();
    }

    @Test
    void aForwardQuietForAWholeWindowIsForgottenAsADeletedTunnelsAre() {
        assertThat(events.allowed("gone/ssh", start)).isTrue();
        assertThat(events.allowed("kept/ssh", start.plusSeconds(300))).isTrue();
        assertThat(events.forwardsCounted()).isEqualTo(2);

        Instant later = start.plus(TunnelEvents.REACHABILITY_WINDOW).plusSeconds(1);
        assertThat(events.allowed("other/web", later)).isTrue();
        assertThat(events.forwardsCounted()).as("gone/ssh forgotten, kept/ssh still in its window").isEqualTo(2);
    }
}
