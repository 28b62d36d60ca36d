package dev.jumpgate.agent;

import java.time.Duration;
import java.time.Instant;

/**
 * The asks a process's agents make for listens an older session still holds ({@link TunnelAgent#HELD_LISTEN_RETRY}),
 * spread so that together they stay under {@link #PER_SECOND}: a pool of a thousand tunnels cut from its relay at once
 * asks twenty a second, each tunnel every fifty seconds, not two thousand a second (each refused ask is a log line
 * on the relay). A few tunnels ask every half second, as their own retry says.
 */
final class HeldListenAsks {

    static final int PER_SECOND = 20;
    private static final Duration GAP = Duration.ofMillis(1000 / PER_SECOND);

    private Instant nextFree = Instant.MIN;

    /** Reserves the first free slot at or after {@code wanted}; how much later than wanted it is. */
    synchronized Duration reserve(Instant wanted) {
        Instant slot = wanted.isAfter(nextFree) ? wanted : nextFree;
        nextFree = slot.plus(GAP);
        return Duration.between(wanted, slot);
    }
}
