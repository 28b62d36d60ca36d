package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class HeldListenAsksTest {

    @Test
    void aThousandAsksAtOnceAreSpreadTwentyASecondAndALoneAskGoesWhenItWants() {
        HeldListenAsks asks = new HeldListenAsks();
        Instant now = Instant.parse("2026-12-02T00:00:00Z");
        Duration last = Duration.ZERO;
        for (int i = 0; i < 1000; i++) {
            last = asks.reserve(now);
        }
        assertThat(last).isEqualTo(Duration.ofMillis(999 * 50));

        Instant later = now.plusSeconds(60);
        assertThat(asks.reserve(later)).isZero();
        assertThat(asks.reserve(later.plusMillis(500))).isZero();
    }
}
