package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Tier 1: how much the relay may send into one forwarded connection, and what that costs the budget. */
class ReceiveWindowTest {

    private static final int PACKET = 32 * 1024;

    @Test
    void aTargetThatStopsReadingGetsNoCreditSoItsConnectionHoldsAtMostItsWindow() {
        WindowBudget budget = new WindowBudget(64L << 20);
        ReceiveWindow window = ReceiveWindow.open(budget);
        assertThat(window.size()).isEqualTo(ReceiveWindow.INITIAL);

        // The relay fills the window; the target takes one packet and then nothing.
        long credited = window.drained(PACKET, ReceiveWindow.INITIAL - PACKET);

        assertThat(credited).as("less than an eighth owed: no adjust packet for it").isZero();
        assertThat(budget.available()).isEqualTo((64L << 20) - (ReceiveWindow.INITIAL - ReceiveWindow.MIN));
    }

    @Test
    void creditFollowsWhatTheTargetAcceptedSoTheRelayNeverHasMoreThanTheWindowInFlight() {
        ReceiveWindow window = ReceiveWindow.open(new WindowBudget(64L << 20));
        long inFlight = window.size(); // what the relay may send, plus what waits in the agent
        for (int i = 0; i < 1000; i++) {
            // a slow target: half the window always waits, so the window never grows
            int credit = window.drained(PACKET, window.size() / 2 + 1);
            inFlight += credit - PACKET;
            assertThat(inFlight).isLessThanOrEqualTo(window.size());
        }
        assertThat(window.size()).isEqualTo(ReceiveWindow.INITIAL);
        assertThat(inFlight).as("credited back to nearly the whole window").isGreaterThan(window.size() * 7L / 8);
    }

    @Test
    void aTargetThatKeepsUpGrowsItsWindowUpToTheMaximumAndClosingGivesItAllBack() {
        WindowBudget budget = new WindowBudget(64L << 20);
        ReceiveWindow window = ReceiveWindow.open(budget);

        for (int i = 0; i < 2000; i++) {
            window.drained(PACKET, 0); // each packet written at once: whole windows turn over within the second
        }

        assertThat(window.size()).isEqualTo(ReceiveWindow.MAX);
        assertThat(budget.available()).isEqualTo((64L << 20) - (ReceiveWindow.MAX - ReceiveWindow.MIN));
        window.close();
        assertThat(budget.available()).isEqualTo(64L << 20);
    }

    @Test
    void windowsOpenSmallerAndShrinkWhenTheBudgetRunsLowButNeverBelowTheMinimum() {
        WindowBudget budget = new WindowBudget(5L << 20);
        ReceiveWindow first = ReceiveWindow.open(budget);
        ReceiveWindow second = ReceiveWindow.open(budget);
        ReceiveWindow third = ReceiveWindow.open(budget);
        ReceiveWindow fourth = ReceiveWindow.open(budget);

        assertThat(first.size()).isEqualTo(ReceiveWindow.INITIAL);
        assertThat(second.size()).isEqualTo(ReceiveWindow.INITIAL);
        assertThat(third.size()).as("what was left").isLessThan(ReceiveWindow.INITIAL).isGreaterThan(ReceiveWindow.MIN);
        assertThat(fourth.size()).as("nothing left: the minimum every connection has").isEqualTo(ReceiveWindow.MIN);
        assertThat(budget.pressed()).isTrue();

        for (int i = 0; i < ReceiveWindow.INITIAL / PACKET; i++) { // one whole window turns over
            first.drained(PACKET, 0);
        }
        assertThat(first.size()).as("a pressed budget halves a window at its turn instead of growing it")
                .isLessThan(ReceiveWindow.INITIAL);
        assertThat(budget.available()).isPositive();
    }
}
