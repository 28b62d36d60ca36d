package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class SshThreadsTest {

    @Test
    void theFirstConnectionsAtOnceGetPlatformThreadsTheRestVirtualOnesAndThePlacesComeBack() throws Exception {
        int connections = SshThreads.PLATFORM_CONNECTIONS + 8;
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            Thread thread = SshThreads.connectionThread(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            thread.start();
            threads.add(thread);
        }

        long virtual = threads.stream().filter(SshThreadsTest::isVirtual).count();
        if (SshThreads.virtual()) { // Java 24+
            assertThat(SshThreads.platformConnectionsInUse()).isEqualTo(SshThreads.PLATFORM_CONNECTIONS);
            assertThat(virtual).isEqualTo(connections - SshThreads.PLATFORM_CONNECTIONS);
        } else {
            assertThat(virtual).isZero();
        }

        release.countDown();
        for (Thread thread : threads) {
            thread.join(5_000);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> SshThreads.platformConnectionsInUse() == 0);
    }

    /** Thread.isVirtual() is Java 21+; the code is compiled for 17. */
    private static boolean isVirtual(Thread thread) {
        return thread.getClass().getName().equals("java.lang.VirtualThread");
    }
}
