package dev.jumpgate.agent;

/**
 * The window of one forwarded connection: how much the relay may send into it before the agent has written it to
 * the target. The agent credits the relay (SSH window adjust) only for bytes the target accepted, so a stalled
 * target holds at most its window in the agent and stops only its own connection, never the session.
 *
 * <p>The window starts at OpenSSH's 2 MiB (less when the {@link WindowBudget} runs low) and grows while the target
 * keeps up: each time a whole window reached the target within a second with at most half of it waiting in the
 * agent, it doubles, up to {@link #MAX}. OpenSSH's fixed 2 MiB caps a forward at 2 MiB per round trip (20 MiB/s at
 * 100 ms); a grown window is not capped so. When the budget is pressed, a window halves at its turn instead.
 * Credits go out once an eighth of the window (at most 256 KiB) is owed, so a bulk transfer keeps the relay's window
 * nearly full, where a credit at half the window (as JSch does) keeps half of it idle.
 */
final class ReceiveWindow {

    /** Every connection's window, whatever the budget: enough for interactive traffic; counted per connection. */
    static final int MIN = 8 * 1024;
    static final int INITIAL = 2 * 1024 * 1024;
    static final int MAX = 16 * 1024 * 1024;
    private static final long MAX_CREDIT_STEP = 256 * 1024;
    /** A window that takes longer than this to turn over is not what limits its connection. */
    private static final long GROWTH_PERIOD_NANOS = 1_000_000_000L;

    private final WindowBudget budget;
    private long size;
    /** Credited and not yet written to the target: what the relay may still send plus what waits in the agent. */
    private long outstanding;
    /** Taken from the budget: everything beyond MIN of the window or of what is outstanding, if more. */
    private long reserved;
    private long turnedOver;
    private long turnStartedNanos;
    private boolean keptUp = true;
    private boolean closed;

    private ReceiveWindow(WindowBudget budget, long size) {
        this.budget = budget;
        this.size = size;
        this.outstanding = size;
        this.reserved = size - MIN;
        this.turnStartedNanos = System.nanoTime();
    }

    /** A new connection's window, its part beyond MIN taken from the budget. */
    static ReceiveWindow open(WindowBudget budget) {
        return new ReceiveWindow(budget, MIN + budget.take(INITIAL - MIN));
    }

    /** The window the relay is granted when the channel opens. */
    synchronized int size() {
        return (int) size;
    }

    /**
     * {@code bytes} reached the target and {@code stillWaiting} wait in the agent: returns the credit to send the
     * relay now (0 for none yet).
     */
    synchronized int drained(long bytes, long stillWaiting) {
        if (closed) {
            return 0;
        }
        outstanding -= bytes;
        turnedOver += bytes;
        if (stillWaiting > size / 2) {
            keptUp = false;
        }
        if (turnedOver >= size) {
            long now = System.nanoTime();
            if (budget.pressed()) {
                size = Math.max(MIN, size / 2);
            } else if (keptUp && now - turnStartedNanos <= GROWTH_PERIOD_NANOS && size < MAX) {
                long more = budget.take(Math.min(MAX, size * 2) - size);
                size += more;
                reserved += more;
            }
            turnedOver = 0;
            turnStartedNanos = now;
            keptUp = true;
        }
        long credit = size - outstanding;
        if (credit < Math.max(1, Math.min(size / 8, MAX_CREDIT_STEP))) {
            credit = 0;
        }
        outstanding += credit;
        rebalance();
        return (int) credit;
    }

    /** The connection ended: its reservation goes back to the budget. */
    synchronized void close() {
        if (!closed) {
            closed = true;
            budget.give(reserved);
            reserved = 0;
        }
    }

    /** A window that shrank gives back what is no longer outstanding either. */
    private void rebalance() {
        long needed = Math.max(size, outstanding) - MIN;
        if (needed < reserved) {
            budget.give(reserved - needed);
            reserved = needed;
        }
    }
}
