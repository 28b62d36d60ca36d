package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.HopState;
import dev.jumpgate.api.v1alpha1.JumpHost;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.HopReport;
import dev.jumpgate.ssh.AuthorizedKeyLine;
import dev.jumpgate.ssh.PublicKeyLine;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.HostCommand;
import dev.jumpgate.testing.HostCommand.Result;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import java.io.IOException;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Tier 2: spec.relay.via, as {@code ssh -J} goes: the agent reaches a real sshd relay through real sshd jump hosts,
 * each accepting the tunnel's key with the line the operator writes for it; and that line, from the attacker's side.
 */
@Tag("relay")
class JumpHostRelayTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private final RelayRig rig = new RelayRig("jumpgate:test/jump");
    private EchoServer target;
    private OpenSshRelay relay;
    private TunnelAgent agent;

    @BeforeEach
    void relayAndTarget() {
        target = rig.closedAfter(new EchoServer());
        relay = rig.relay();
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        rig.close();
    }

    /** How the bastion's owner set it up: the README's block for the tunnels' account, or only the key's line. */
    enum Bastion {
        RECOMMENDED_BLOCK, ONLY_THE_KEY_LINE;

        OpenSshRelay start() {
            return this == RECOMMENDED_BLOCK ? OpenSshRelay.jumpHost() : OpenSshRelay.withoutRecommendedBlock();
        }
    }

    /** A jump host with the README's block that lets the tunnel's key on with the operator's line, to reach host:port. */
    private OpenSshRelay jumpHostTo(String host, int port) {
        return jumpHostTo(Bastion.RECOMMENDED_BLOCK, host, port);
    }

    private OpenSshRelay jumpHostTo(Bastion kind, String host, int port) {
        OpenSshRelay jump = rig.closedAfter(kind.start());
        jump.authorize(AuthorizedKeyLine.forJumpHost(rig.key().publicKey(), host, port, "jumpgate:test/jump"));
        return jump;
    }

    private static JumpHost hop(OpenSshRelay host) {
        return new JumpHost("127.0.0.1", host.port(), host.user(), List.of(host.hostKey()));
    }

    private ReverseTunnelSpec through(int door, JumpHost... hops) {
        ReverseTunnelSpec spec = spec(relay, forward("ssh", door, target.port()));
        spec.getRelay().setVia(new ArrayList<>(List.of(hops)));
        return spec;
    }

    private AgentReport run(ReverseTunnelSpec spec) {
        agent = new TunnelAgent(report -> { }).start();
        agent.apply(new TunnelConfig(1, spec, rig.identity(), null));
        return agent.report();
    }

    private boolean bound() {
        AgentReport report = agent.report();
        return report != null && report.allForwardsBound();
    }

    @Test
    void throughTwoJumpHostsTheForwardServesAndEachHopIsReportedConnectedWithItsKey() {
        OpenSshRelay second = jumpHostTo("127.0.0.1", relay.port());
        OpenSshRelay first = jumpHostTo("127.0.0.1", second.port());
        int door = OpenSshRelay.freePort();

        run(through(door, hop(first), hop(second)));

        await().atMost(PATIENCE).until(this::bound);
        assertThat(EchoClient.echoes(door, 64 * 1024)).as("a connection to the relay's listen reaches the target").isTrue();
        List<HopReport> hops = agent.report().hops();
        assertThat(hops).extracting(HopReport::port).containsExactly(first.port(), second.port());
        assertThat(hops).extracting(HopReport::state).containsOnly(HopState.Connected);
        assertThat(hops.get(0).fingerprint()).isEqualTo(PublicKeyLine.parse(first.hostKey()).fingerprint());
        assertThat(hops.get(1).fingerprint()).isEqualTo(PublicKeyLine.parse(second.hostKey()).fingerprint());
        assertThat(agent.report().message()).contains("via " + first.user() + "@127.0.0.1:" + first.port());
        await().atMost(PATIENCE).until(() -> agent.report().hops().stream().allMatch(h -> h.keyRestricted() != null));
        assertThat(agent.report().hops()).extracting(HopReport::keyRestricted).containsOnly(true);
    }

    /** A bastion whose owner pasted the bare key: the key holder has a shell there, and the agent says so. */
    @Test
    void aJumpHostThatGivesTheKeyAShellIsReportedUnrestricted() {
        OpenSshRelay careless = rig.closedAfter(OpenSshRelay.withoutRecommendedBlock());
        careless.authorize(rig.key().publicKey().toString());
        int door = OpenSshRelay.freePort();

        run(through(door, hop(careless)));

        await().atMost(PATIENCE).until(() -> bound() && agent.report().hops().get(0).keyRestricted() != null);
        assertThat(agent.report().hops().get(0).keyRestricted()).isFalse();
        assertThat(agent.report().relayRunsCommands()).as("the relay itself is another matter").isNotNull();
    }

    /**
     * Bulk data both ways at once through a hop: the hop's session thread (the only reader of the hop's window
     * adjusts) must never wait for the session it carries, which may be waiting for those adjusts itself.
     */
    @Test
    void bulkDataBothWaysAtOnceThroughAJumpHostNeitherStallsNorLosesAByte() throws Exception {
        OpenSshRelay jump = jumpHostTo("127.0.0.1", relay.port());
        int door = OpenSshRelay.freePort();
        run(through(door, hop(jump)));
        await().atMost(PATIENCE).until(this::bound);

        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> echoes = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                echoes.add(clients.submit(() -> EchoClient.echoes(door, 16 * 1024 * 1024)));
            }
            for (Future<Boolean> echo : echoes) {
                assertThat(echo.get(60, TimeUnit.SECONDS)).as("16 MiB up and back down, each").isTrue();
            }
        } finally {
            clients.shutdownNow();
        }
        assertThat(agent.report().connected()).isTrue();
        assertThat(agent.report().reconnects()).isZero();
    }

    @Test
    void aJumpHostWhoseLineDoesNotLetTheKeyReachTheRelayIsNamedAndTheRelayNeverSeesTheAgent() {
        OpenSshRelay jump = jumpHostTo("127.0.0.1", relay.port() + 1); // a line written for another relay
        int door = OpenSshRelay.freePort();
        long relayConnections = relay.connectionsAccepted(); // its start-up probe's

        run(through(door, hop(jump)));

        await().atMost(PATIENCE).until(() -> agent.report() != null && Reasons.JUMP_HOST_REFUSED.equals(agent.report().reason()));
        AgentReport report = agent.report();
        assertThat(report.connected()).isFalse();
        assertThat(report.message()).contains("127.0.0.1:" + relay.port()).contains("permitopen");
        assertThat(report.hops()).singleElement().satisfies(h -> {
            assertThat(h.state()).isEqualTo(HopState.Failed);
            assertThat(h.message()).contains("administratively prohibited");
        });
        assertThat(relay.connectionsAccepted()).isEqualTo(relayConnections);
    }

    @Test
    void aJumpHostThatPresentsAnUnpinnedHostKeyIsLeftBeforeTheKeyIsOffered() throws Exception {
        OpenSshRelay jump = jumpHostTo("127.0.0.1", relay.port());
        JumpHost pinnedBefore = hop(jump);
        jump.newHostKey();
        jump.restart();
        int door = OpenSshRelay.freePort();
        long relayConnections = relay.connectionsAccepted(); // its start-up probe's

        run(through(door, pinnedBefore));

        await().atMost(PATIENCE).until(() -> agent.report() != null && Reasons.HOST_KEY_MISMATCH.equals(agent.report().reason()));
        AgentReport report = agent.report();
        assertThat(report.message()).contains("jump host").contains("spec.relay.via[0].hostKeys");
        assertThat(report.hostKey()).as("the relay's key, which trust on first use would pin, is not the hop's").isNull();
        assertThat(report.hops()).singleElement().extracting(HopReport::state).isEqualTo(HopState.Failed);
        assertThat(Files.readString(jump.log())).doesNotContain("Accepted publickey");
        assertThat(relay.connectionsAccepted()).isEqualTo(relayConnections);
    }

    @Test
    void aRelayGoneSilentBehindALiveJumpHostIsNoticedByKeepalivesAndTheTunnelComesBack() {
        OpenSshRelay jump = jumpHostTo("127.0.0.1", relay.port());
        int door = OpenSshRelay.freePort();
        run(through(door, hop(jump)));
        await().atMost(PATIENCE).until(this::bound);

        relay.freeze(); // no FIN, no RST: only keepalives through the hop's channel can tell
        // keepalive 1 s x 3 (Tunnels.spec): the session is declared lost in about 3 s
        await().atMost(Duration.ofSeconds(10)).until(() -> !agent.report().connected());
        assertThat(agent.report().hops()).singleElement().extracting(HopReport::state).isEqualTo(HopState.Connected);

        relay.thaw();
        await().atMost(PATIENCE).until(this::bound);
        assertThat(EchoClient.echoes(door, 1000)).isTrue();
    }

    /**
     * The key in the attacker's hand, against the jump host with the operator's line: it reaches the next hop, as the
     * agent needs, and nothing else: no command, no shell, no other destination, no listen.
     */
    @ParameterizedTest
    @EnumSource(Bastion.class)
    void theJumpHostLineLetsTheKeyReachTheNextHopAndNothingElse(Bastion kind) throws Exception {
        OpenSshRelay jump = jumpHostTo(kind, "127.0.0.1", relay.port());
        Path dir = Files.createTempDirectory("jumpgate-stolen");
        Path keyFile = dir.resolve("id_ed25519");
        Files.writeString(keyFile, rig.key().privateKeyPem());
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        List<String> options = List.of("-p", Integer.toString(jump.port()), "-i", keyFile.toString(),
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5");
        String login = jump.user() + "@127.0.0.1";

        Result next = ssh(options, "-W", "127.0.0.1:" + relay.port(), login);
        assertThat(next.output()).as("the relay's banner, through the hop").contains("SSH-2.0-OpenSSH");

        for (String elsewhere : List.of("127.0.0.1:" + target.port(), "localhost:" + relay.port(),
                "127.0.0.1:" + jump.port())) {
            Result refused = ssh(options, "-W", elsewhere, login);
            assertThat(refused.exitCode()).as(elsewhere).isNotZero();
            assertThat(refused.output()).as(elsewhere).contains("administratively prohibited");
        }

        Result command = ssh(options, login, "id");
        assertThat(command.exitCode()).isNotZero();
        assertThat(command.output()).doesNotContain("uid=")
                .containsAnyOf("this key only holds a Jumpgate tunnel", "this account only carries Jumpgate tunnels");

        int listen = OpenSshRelay.freePort();
        Result remote = ssh(options, "-N", "-o", "ExitOnForwardFailure=yes", "-R",
                "127.0.0.1:" + listen + ":127.0.0.1:" + target.port(), login);
        assertThat(remote.exitCode()).isNotZero();
        assertThat(remote.output()).contains("remote port forwarding failed");
        assertThat(OpenSshRelay.listening(listen)).isFalse();

        // A Unix socket of the bastion (docker.sock, say): the line's permitopen covers paths too.
        Path socketFile = dir.resolve("service.sock");
        try (ServerSocketChannel service = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            service.bind(UnixDomainSocketAddress.of(socketFile));
            Thread greeter = new Thread(() -> {
                try (SocketChannel client = service.accept()) {
                    client.write(java.nio.ByteBuffer.wrap("unix-hello\n".getBytes(StandardCharsets.US_ASCII)));
                } catch (IOException e) {
                    // closed by the test
                }
            });
            greeter.setDaemon(true);
            greeter.start();
            int local = OpenSshRelay.freePort();
            List<String> forward = new ArrayList<>(options);
            forward.addAll(List.of("-N", "-L", "127.0.0.1:" + local + ":" + socketFile, login));
            Process tunnel = HostCommand.SSH.start(forward.toArray(String[]::new));
            try {
                await().atMost(PATIENCE).until(() -> OpenSshRelay.listening(local));
                try (Socket through = new Socket("127.0.0.1", local)) {
                    through.setSoTimeout(5_000);
                    byte[] said = through.getInputStream().readNBytes(11);
                    assertThat(new String(said, StandardCharsets.US_ASCII)).doesNotContain("unix-hello");
                }
            } finally {
                tunnel.destroyForcibly();
            }
        }

        if (kind == Bastion.RECOMMENDED_BLOCK) {
            // What no key line can forbid (permitlisten is for TCP): a listening Unix socket on the bastion, which a
            // local service could be tricked into using. The block's AllowStreamLocalForwarding no does.
            Path planted = dir.resolve("planted.sock");
            Result unixListen = ssh(options, "-N", "-o", "ExitOnForwardFailure=yes", "-R",
                    planted + ":127.0.0.1:" + target.port(), login);
            assertThat(unixListen.exitCode()).isNotZero();
            assertThat(unixListen.output()).contains("remote port forwarding failed");
            assertThat(planted).doesNotExist();
        }
    }

    private static Result ssh(List<String> options, String... args) {
        List<String> all = new ArrayList<>(options);
        all.addAll(List.of(args));
        return HostCommand.SSH.run(Duration.ofSeconds(15), all.toArray(String[]::new));
    }
}
