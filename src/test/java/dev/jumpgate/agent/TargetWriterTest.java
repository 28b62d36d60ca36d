package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.io.UncheckedIOException;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tier 1: the path from the relay to a target over a real loopback connection, the relay's side played by the test:
 * it hands packets over as JSch's session thread does and records the credits the agent sends back.
 */
class TargetWriterTest {

    private static final int PACKET = 32 * 1024;

    private final AtomicLong credited = new AtomicLong();
    private final AtomicLong arrivals = new AtomicLong();
    private final RelayChannel relay = new RelayChannel() {
        @Override
        public void dataArriving() {
            arrivals.incrementAndGet();
        }

        @Override
        public void credit(int bytes) {
            credited.addAndGet(bytes);
        }
    };
    private final WindowBudget budget = new WindowBudget(64L << 20);
    private final ForwardTraffic traffic = new ForwardTraffic();
    private ServerSocket server;

    @AfterEach
    void close() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private Socket connectThroughTheAgent() throws Exception {
        return connectThroughTheAgent(budget);
    }

    private Socket connectThroughTheAgent(WindowBudget windows) throws Exception {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ReceiveWindow window = ReceiveWindow.open(windows);
        return CountingSocket.connect("127.0.0.1", server.getLocalPort(), 5_000, traffic, socket -> { },
                new ForwardedChannel(relay, window));
    }

    /**
     * A 2 MiB window queues in pooled chunks (packets topping up the last chunk, a packet spanning several); an
     * 8 KiB one (the budget spent) in arrays of each packet's size, written in batches. Either way the target gets
     * every byte in order, whatever the mix of packet sizes.
     */
    @ParameterizedTest
    @ValueSource(longs = {64L << 20, 0})
    void packetsOfEverySizeReachTheTargetInOrderWhetherQueuedInChunksOrInTheirOwnArrays(long budgetBytes)
            throws Exception {
        Socket agentSide = connectThroughTheAgent(new WindowBudget(budgetBytes));
        try (Socket target = server.accept()) {
            Random random = new Random(budgetBytes);
            byte[] sent = new byte[8 << 20];
            random.nextBytes(sent);
            CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
                try {
                    return target.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            OutputStream toTarget = agentSide.getOutputStream();
            for (int at = 0; at < sent.length; ) {
                int size = Math.min(sent.length - at, switch (random.nextInt(4)) {
                    case 0 -> 1 + random.nextInt(100);                   // keystrokes
                    case 1 -> 1 + random.nextInt(TargetWriter.CHUNK);    // part of a chunk
                    case 2 -> TargetWriter.CHUNK;
                    default -> 1 + random.nextInt(3 * TargetWriter.CHUNK); // across chunks
                });
                toTarget.write(sent, at, size);
                at += size;
            }
            toTarget.close();

            assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(sent);
            if (budgetBytes > 0) {
                assertThat(TargetWriter.chunksKept()).as("chunks back in the pool for the next burst").isPositive();
            }
        }
    }

    @Test
    void aTargetThatDoesNotReadNeitherBlocksTheSessionNorEarnsTheRelayCredit() throws Exception {
        Socket agentSide = connectThroughTheAgent();
        try (Socket target = server.accept()) {
            byte[] sent = new byte[ReceiveWindow.INITIAL]; // what the relay may send before any credit
            new Random(1).nextBytes(sent);
            OutputStream toTarget = agentSide.getOutputStream();
            for (int at = 0; at < sent.length; at += PACKET) {
                toTarget.write(sent, at, PACKET); // returns at once: the target has not read a byte
            }
            long creditSoFar = credited.get(); // read first: a credit always follows the write it is for
            long acceptedByTheTargetSocket = traffic.bytesToTarget();

            assertThat(arrivals.get()).isEqualTo(sent.length / PACKET);
            assertThat(creditSoFar).as("credit only for what the target's socket took")
                    .isLessThanOrEqualTo(acceptedByTheTargetSocket);
            assertThat(traffic.bytesWaitingForTargets() + traffic.bytesToTarget()).isEqualTo(sent.length);

            toTarget.close(); // the relay's EOF
            byte[] received = target.getInputStream().readAllBytes(); // ends only with the half-close

            assertThat(received).isEqualTo(sent);
            await().atMost(Duration.ofSeconds(10)).until(() -> credited.get() >= sent.length - ReceiveWindow.INITIAL / 8);
            assertThat(traffic.bytesWaitingForTargets()).isZero();
        } finally {
            agentSide.close();
        }
    }

    @Test
    void aConnectionClosedWithDataStillQueuedWritesItFirst() throws Exception {
        Socket agentSide = connectThroughTheAgent();
        try (Socket target = server.accept()) {
            byte[] sent = new byte[ReceiveWindow.INITIAL];
            new Random(2).nextBytes(sent);
            for (int at = 0; at < sent.length; at += PACKET) {
                agentSide.getOutputStream().write(sent, at, PACKET);
            }

            agentSide.close(); // the relay closed the channel right after its last bytes

            InputStream in = target.getInputStream();
            assertThat(in.readAllBytes()).isEqualTo(sent);
            await().atMost(Duration.ofSeconds(10)).until(() -> traffic.openConnections() == 0);
            assertThat(budget.available()).as("the window went back to the budget").isEqualTo(64L << 20);
        }
    }

    @Test
    void aTargetThatGoesAwayEndsItsConnectionAndRefusesMoreData() throws Exception {
        Socket agentSide = connectThroughTheAgent();
        server.accept().close(); // the target closes at once
        byte[] packet = new byte[PACKET];

        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try {
                agentSide.getOutputStream().write(packet); // as long as the relay still sends
                return false;
            } catch (IOException refused) {
                return true; // JSch then closes the channel
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(agentSide::isClosed);
        assertThat(traffic.openConnections()).isZero();
        assertThat(traffic.bytesWaitingForTargets()).isZero();
    }
}
