package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Tier 1: the connections a flood may take from an agent, per forward and for all its forwards together. */
class ConnectionBudgetTest {

    private static final long MIB = 1024 * 1024;

    @Test
    void theDefaultAgentPodHoldsTwoThousandConnectionsOnVirtualThreadsAndFarFewerOnPlatformThreads() {
        long heapOfA256MiPod = (long) (256 * MIB * 0.60); // jvm.options: MaxRAMPercentage=60

        long virtual = ConnectionBudget.forHeap(heapOfA256MiPod, ConnectionBudget.BYTES_PER_VIRTUAL_THREAD_CONNECTION);
        long platform = ConnectionBudget.forHeap(heapOfA256MiPod, ConnectionBudget.BYTES_PER_PLATFORM_THREAD_CONNECTION);

        assertThat(virtual).isBetween(2000L, 3000L);
        assertThat(platform).isLessThan(virtual / 3);
        // The connections at their measured size fill at most three quarters of the heap left beside the agent.
        assertThat(virtual * ConnectionBudget.BYTES_PER_VIRTUAL_THREAD_CONNECTION)
                .isLessThanOrEqualTo((long) ((heapOfA256MiPod - ConnectionBudget.AGENT_BYTES) * 0.75));
    }

    @Test
    void forwardsTogetherStopAtTheBudgetEachBelowItsOwnCap() {
        ConnectionBudget budget = new ConnectionBudget(80);
        ForwardTraffic web = forward(budget, 1000);
        ForwardTraffic ssh = forward(budget, 1000);
        budget.shareAmong("tunnel", List.of(web, ssh));

        assertThat(take(ssh, 50)).isEqualTo(50);
        assertThat(take(web, 50)).as("what is left of the budget, though below the forward's cap").isEqualTo(30);

        assertThat(web.refusedConnections()).isEqualTo(20);
        assertThat(ssh.refusedConnections()).isZero();
        ssh.release();
        assertThat(take(web, 1)).as("a place given back by the other forward").isEqualTo(1);
    }

    @Test
    void aFloodIntoOneForwardLeavesTheOthersTheirPromisedPlaces() {
        ConnectionBudget budget = new ConnectionBudget(80);
        ForwardTraffic web = forward(budget, 1000);
        ForwardTraffic ssh = forward(budget, 1000);
        ForwardTraffic db = forward(budget, 1000);
        budget.shareAmong("tunnel", List.of(web, ssh, db));

        // Each forward is promised a quarter of an even share: 80 / (4 x 3) = 6 places.
        assertThat(take(web, 10_000)).as("the flood takes all but the places promised to the others").isEqualTo(68);
        assertThat(take(ssh, 100)).isEqualTo(6);
        assertThat(take(db, 100)).isEqualTo(6);
        assertThat(web.refusedConnections()).isEqualTo(10_000 - 68);
    }

    @Test
    void aFloodThroughOneTunnelOfAPoolLeavesTheOtherTunnelsTheirPromisedPlacesUntilItLeaves() {
        ConnectionBudget budget = new ConnectionBudget(80);
        ForwardTraffic flooded = forward(budget, 1000);
        ForwardTraffic quiet = forward(budget, 1000);
        budget.shareAmong("tunnel-a", List.of(flooded));
        budget.shareAmong("tunnel-b", List.of(quiet));

        // Two forwards in the process: each promised 80 / (4 x 2) = 10 places.
        assertThat(take(flooded, 10_000)).isEqualTo(70);
        assertThat(take(quiet, 100)).isEqualTo(10);

        budget.shareAmong("tunnel-b", List.of()); // tunnel b leaves the pool: no promise held for it any more
        quiet.release();
        assertThat(take(flooded, 10)).isEqualTo(1);
    }

    @Test
    void aForwardGoneFromTheSpecHoldsNoPromise() {
        ConnectionBudget budget = new ConnectionBudget(80);
        ForwardTraffic web = forward(budget, 1000);
        ForwardTraffic gone = forward(budget, 1000);
        budget.shareAmong("tunnel", List.of(web, gone));
        assertThat(take(web, 100)).isEqualTo(70); // 10 promised to the other

        budget.shareAmong("tunnel", List.of(web));

        assertThat(take(web, 100)).isEqualTo(10);
    }

    private static ForwardTraffic forward(ConnectionBudget budget, int cap) {
        ForwardTraffic forward = new ForwardTraffic(budget);
        forward.limit(cap);
        return forward;
    }

    /** Tries to open {@code attempts} connections through the forward; returns how many it was granted. */
    private static int take(ForwardTraffic forward, int attempts) {
        int granted = 0;
        for (int i = 0; i < attempts; i++) {
            granted += forward.reserve() ? 1 : 0;
        }
        return granted;
    }

    @Test
    void aForwardAtItsCapRefusesWithoutTakingFromTheBudget() {
        ConnectionBudget budget = new ConnectionBudget(100);
        ForwardTraffic web = forward(budget, 1);
        ForwardTraffic ssh = forward(budget, 100);
        budget.shareAmong("tunnel", List.of(web, ssh));

        assertThat(web.reserve()).isTrue();
        for (int i = 0; i < 500; i++) {
            assertThat(web.reserve()).isFalse();
        }
        for (int i = 0; i < 99; i++) {
            assertThat(ssh.reserve()).as("connection %d of the other forward", i + 1).isTrue();
        }
        assertThat(web.refusedConnections()).isEqualTo(500);
    }
}
