package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.ForwardCheck;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import dev.jumpgate.testing.TcpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: the data path between relay and targets, through a stock OpenSSH sshd: a target that stops reading stops
 * nothing but its own connection, and every byte arrives, in order, with the ends of a connection kept.
 */
@Tag("relay")
class DataPathRelayTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final int MiB = 1 << 20;

    private final RelayRig rig = new RelayRig("jumpgate:test/data-path");
    private TunnelAgent agent;

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        rig.close();
    }

    private void run(OpenSshRelay relay, ForwardSpec... forwards) {
        agent = new TunnelAgent(report -> { }).start();
        agent.apply(new TunnelConfig(1, spec(relay, forwards), rig.identity(), null));
        for (var forward : forwards) {
            await().atMost(PATIENCE).until(() -> agent.report() != null && agent.report().forwards().stream()
                    .anyMatch(f -> f.name().equals(forward.getName()) && f.state() == ForwardState.Bound));
        }
    }

    @Test
    void targetsThatStopReadingStopOnlyTheirOwnConnections() throws Exception {
        OpenSshRelay relay = rig.relay();
        StallingEchoServer target = rig.closedAfter(new StallingEchoServer());
        EchoServer other = rig.closedAfter(new EchoServer());
        int web = OpenSshRelay.freePort();
        int ssh = OpenSshRelay.freePort();
        run(relay, forward("web", web, target.port()), forward("ssh", ssh, other.port()));
        long sessions = relay.connectionsAccepted();

        // Eight connections of "web" whose consumer stops reading, each pushed as much as it takes from the relay side.
        List<Socket> stalled = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Socket socket = rig.closedAfter(connect(web));
            socket.getOutputStream().write('S'); // the target reads this byte, then nothing more
            stalled.add(socket);
            CompletableFuture.runAsync(() -> pushForever(socket));
        }
        // Until every stalled connection holds what the agent lets it hold: its window, queued for the target. More
        // than 8 MiB for the eight: with the 128 KiB window JSch gives forwarded channels (the agent's window not
        // announced), they could hold 1 MiB at most and this wait would fail.
        long[] held = {-1};
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(500)).until(() -> {
            long before = held[0];
            held[0] = agent.traffic().get("web").bytesWaitingForTargets();
            return held[0] == before && held[0] > 8L * MiB;
        });

        // Another connection of the same forward and one of the other forward answer at once.
        try (Socket sameForward = connect(web); Socket otherForward = connect(ssh)) {
            assertThat(p99EchoMillis(sameForward)).as("p99 echo through the stalled forward").isLessThan(50);
            assertThat(p99EchoMillis(otherForward)).as("p99 echo through the other forward").isLessThan(50);
        }
        assertThat(agent.traffic().get("web").bytesWaitingForTargets())
                .as("what the agent holds stopped growing (above), each stalled connection at most its window: 2 MiB, "
                        + "grown to 16 MiB at most while the target's socket buffers still took everything")
                .isEqualTo(held[0]).isLessThanOrEqualTo(8L * 16 * MiB);
        assertThat(agent.report().connected()).isTrue();
        assertThat(relay.connectionsAccepted()).as("the same session throughout: no reconnect").isEqualTo(sessions);

        // The stalled targets read again: everything queued reaches them, and the agent holds nothing.
        target.resume();
        await().atMost(PATIENCE).until(() -> target.bytesRead() > held[0]);
        for (Socket socket : stalled) {
            socket.close();
        }
        await().atMost(PATIENCE).until(() -> agent.traffic().get("web").bytesWaitingForTargets() == 0);
    }

    @Test
    void sixtyFourMiBEachWayArriveIntactWhileTheRelayRekeysEveryFewMiB() throws Exception {
        OpenSshRelay relay = rig.relay("RekeyLimit 4M", "LogLevel DEBUG1");
        EchoServer target = rig.closedAfter(new EchoServer());
        int port = OpenSshRelay.freePort();
        run(relay, forward("bulk", port, target.port()));

        try (Socket socket = connect(port)) {
            MessageDigest sent = sha256();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                Random random = new Random(42);
                byte[] chunk = new byte[64 * 1024];
                try {
                    OutputStream out = socket.getOutputStream();
                    for (int i = 0; i < 64 * MiB / chunk.length; i++) {
                        random.nextBytes(chunk);
                        sent.update(chunk);
                        out.write(chunk);
                    }
                    socket.shutdownOutput();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            MessageDigest received = sha256();
            long total = 0;
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                received.update(buffer, 0, n);
                total += n;
            }
            writer.get(30, TimeUnit.SECONDS);

            assertThat(total).isEqualTo(64L * MiB);
            assertThat(HexFormat.of().formatHex(received.digest())).isEqualTo(HexFormat.of().formatHex(sent.digest()));
        }
        long keyExchanges = Files.readAllLines(relay.log()).stream()
                .filter(line -> line.contains("SSH2_MSG_KEXINIT sent")).count();
        assertThat(keyExchanges).as("sshd rekeyed every 4 MiB while 128 MiB flowed").isGreaterThan(10);
    }

    @Test
    void aClientThatShutsDownItsWriteSideStillGetsTheWholeAnswer() throws Exception {
        OpenSshRelay relay = rig.relay();
        try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            // A request/response target: answers with the SHA-256 of the request once the request has ended (EOF).
            CompletableFuture<Void> target = CompletableFuture.runAsync(() -> {
                try (Socket socket = server.accept()) {
                    byte[] request = socket.getInputStream().readAllBytes();
                    socket.getOutputStream().write(sha256().digest(request));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            int port = OpenSshRelay.freePort();
            ForwardSpec rpc = forward("rpc", port, server.getLocalPort());
            rpc.setCheck(ForwardCheck.None); // this target serves one connection: the test's, not an end-to-end check's
            run(relay, rpc);

            byte[] request = new byte[5 * MiB];
            new Random(7).nextBytes(request);
            try (Socket socket = connect(port)) {
                socket.getOutputStream().write(request);
                socket.shutdownOutput();
                byte[] answer = socket.getInputStream().readAllBytes();

                assertThat(answer).isEqualTo(sha256().digest(request));
            }
            target.get(10, TimeUnit.SECONDS);
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(15_000);
        socket.setTcpNoDelay(true);
        return socket;
    }

    private static void pushForever(Socket socket) {
        byte[] chunk = new byte[64 * 1024];
        try {
            OutputStream out = socket.getOutputStream();
            while (true) {
                out.write(chunk);
            }
        } catch (IOException e) {
            // closed at the end of the test
        }
    }

    /** 200 round trips of 64 bytes; the 99th percentile, in milliseconds. */
    private static long p99EchoMillis(Socket socket) throws IOException {
        byte[] ping = new byte[64];
        long[] millis = new long[200];
        for (int i = 0; i < millis.length; i++) {
            long start = System.nanoTime();
            socket.getOutputStream().write(ping);
            byte[] pong = socket.getInputStream().readNBytes(ping.length);
            millis[i] = (System.nanoTime() - start) / 1_000_000;
            assertThat(pong).hasSize(ping.length);
        }
        Arrays.sort(millis);
        return millis[(int) (millis.length * 0.99) - 1];
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A target that echoes, except on connections whose first byte is 'S': those it stops reading, until resumed.
     */
    private static final class StallingEchoServer implements AutoCloseable {
        private final CompletableFuture<Void> resumed = new CompletableFuture<>();
        private final AtomicLong bytesRead = new AtomicLong();
        private final TcpServer server = new TcpServer("stalling-echo", 64, this::serve);

        int port() {
            return server.port();
        }

        void resume() {
            resumed.complete(null);
        }

        long bytesRead() {
            return bytesRead.get();
        }

        private void serve(Socket socket) throws IOException {
            try (InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
                int first = in.read();
                if (first == 'S') {
                    resumed.join();
                    byte[] buffer = new byte[64 * 1024];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        bytesRead.addAndGet(n);
                    }
                    return;
                }
                out.write(first);
                byte[] buffer = new byte[32 * 1024];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    out.write(buffer, 0, n);
                }
            }
        }

        @Override
        public void close() {
            server.close();
        }
    }
}
