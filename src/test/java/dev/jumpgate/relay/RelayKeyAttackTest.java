package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.Identity;
import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.ssh.AuthorizedKeyLine;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.HostCommand.Result;
import dev.jumpgate.testing.HostCommand;
import dev.jumpgate.testing.OpenSshRelay;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The relay key from the attacker's side: someone who read the tunnel's key Secret, or took the agent pod, tries
 * with OpenSSH's own client against a real sshd everything the key must not do, after the agent has shown that the
 * key still does its job. Each attack runs against two relays: one whose owner only pasted the key's
 * authorized_keys line (the line's options alone must hold), and one with the README's recommended block.
 */
@Tag("relay")
class RelayKeyAttackTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final Duration SHORT = Duration.ofSeconds(15);

    enum Relay {
        ONLY_THE_KEY_LINE, RECOMMENDED_BLOCK;

        OpenSshRelay start() {
            // DEBUG1: sshd says in its log which requests it turned down (agent forwarding has no answer to see).
            return this == RECOMMENDED_BLOCK ? OpenSshRelay.start("LogLevel DEBUG1")
                    : OpenSshRelay.withoutRecommendedBlock("LogLevel DEBUG1");
        }
    }

    private final Ed25519KeyPair key = Ed25519KeyPair.generate("jumpgate:test/stolen");
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private OpenSshRelay relay;
    private EchoServer target;
    private Path keyFile;
    private Process sshAgent;
    private int door;

    @AfterEach
    void stop() throws Exception {
        processes.forEach(Process::destroyForcibly);
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }

    /** A relay with the tunnel's line for the key, the agent holding its forward, and the key in the attacker's hand. */
    private void tunnelUp(Relay kind) throws Exception {
        relay = kind.start();
        cleanup.add(relay);
        target = new EchoServer();
        cleanup.add(target);
        door = OpenSshRelay.freePort();
        relay.authorize(AuthorizedKeyLine.of(key.publicKey(), "127.0.0.1", List.of(new AuthorizedKeyLine.Listen("127.0.0.1", door)),
                "jumpgate:test/stolen"));

        TunnelAgent agent = new TunnelAgent(report -> { }).start();
        cleanup.add(agent::close);
        agent.apply(new TunnelConfig(1, spec(relay, forward("ssh", door, target.port())),
                Identity.of("test key", key.privateKeyPem().getBytes(StandardCharsets.US_ASCII)), null));
        await().atMost(PATIENCE).until(() -> agent.report() != null && agent.report().forwards().stream()
                .allMatch(f -> f.state() == ForwardState.Bound));
        assertThat(EchoClient.echoes(door, 1000)).as("the key does its job").isTrue();
        await().atMost(PATIENCE).until(() -> agent.report().relayRunsCommands() != null);
        assertThat(agent.report().relayRunsCommands()).as("the agent's own check of its key").isFalse();
        await().atMost(PATIENCE).until(() -> agent.report().relayOpensAnywhere() != null);
        assertThat(agent.report().relayOpensAnywhere()).as("the agent's own check of its key's permitopen").isFalse();

        Path dir = Files.createTempDirectory("jumpgate-stolen");
        keyFile = dir.resolve("id_ed25519");
        Files.writeString(keyFile, key.privateKeyPem());
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
    }

    private List<String> sshOptions() {
        return List.of("-i", keyFile.toString(), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5");
    }

    private Result ssh(String... args) {
        return ssh(Map.of(), args);
    }

    private Result ssh(Map<String, String> environment, String... args) {
        List<String> all = new ArrayList<>(List.of("-p", Integer.toString(relay.port())));
        all.addAll(sshOptions());
        all.addAll(List.of(args));
        return HostCommand.SSH.run(SHORT, environment, all.toArray(String[]::new));
    }

    private Process sshInBackground(String... args) {
        List<String> all = new ArrayList<>(List.of("-p", Integer.toString(relay.port())));
        all.addAll(sshOptions());
        all.addAll(List.of(args));
        Process process = HostCommand.SSH.start(all.toArray(String[]::new));
        processes.add(process);
        return process;
    }

    private String login() {
        return relay.user() + "@127.0.0.1";
    }

    @ParameterizedTest
    @EnumSource(Relay.class)
    void theKeyRunsNoCommand(Relay kind) throws Exception {
        tunnelUp(kind);
        Result result = ssh(login(), "id");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).doesNotContain("uid=");
    }

    @ParameterizedTest
    @EnumSource(Relay.class)
    void theKeyGetsNoShellAndNoTerminal(Relay kind) throws Exception {
        tunnelUp(kind);
        Process shell = sshInBackground("-tt", login());
        shell.getOutputStream().write("id; echo shell-$((6*7))\n".getBytes(StandardCharsets.US_ASCII));
        shell.getOutputStream().close();
        String output = readAll(shell);
        assertThat(output).contains("PTY allocation request failed").doesNotContain("uid=").doesNotContain("shell-42");
    }

    @ParameterizedTest
    @EnumSource(Relay.class)
    void theKeyOpensNoSftp(Relay kind) throws Exception {
        tunnelUp(kind);
        Path batch = Files.writeString(keyFile.resolveSibling("batch"), "pwd\nls /\n");
        List<String> args = new ArrayList<>(List.of("-P", Integer.toString(relay.port()), "-b", batch.toString()));
        args.addAll(sshOptions());
        args.add(login());
        Result result = HostCommand.SFTP.run(SHORT, args.toArray(String[]::new));
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).doesNotContain("Remote working directory").doesNotContain("etc");
    }

    @ParameterizedTest
    @EnumSource(Relay.class)
    void theKeyReachesNothingThroughTheRelay(Relay kind) throws Exception {
        tunnelUp(kind);
        // -W: stdio forwarding to a port the relay reaches.
        Result stdio = ssh("-W", "127.0.0.1:" + target.port(), login());
        assertThat(stdio.exitCode()).isNotZero();
        assertThat(stdio.output()).contains("stdio forwarding failed");

        // -L: a local port that would lead to the target.
        int local = OpenSshRelay.freePort();
        sshInBackground("-N", "-L", "127.0.0.1:" + local + ":127.0.0.1:" + target.port(), login());
        await().atMost(PATIENCE).until(() -> OpenSshRelay.listening(local));
        assertThat(EchoClient.echoes(local, 100)).isFalse();

        // -D: a SOCKS proxy into everything the relay reaches.
        int socks = OpenSshRelay.freePort();
        sshInBackground("-N", "-D", "127.0.0.1:" + socks, login());
        await().atMost(PATIENCE).until(() -> OpenSshRelay.listening(socks));
        assertThat(socksConnects(socks, target.port())).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Relay.class)
    void theKeyConnectsFromTheRelayOnlyToTheTunnelsOwnListenWhereTheAgentsCheckGoes(Relay kind) throws Exception {
        tunnelUp(kind);

        Result own = ssh("-W", "127.0.0.1:" + door, login());
        assertThat(own.output()).doesNotContain("open failed");
        assertThat(own.exitCode()).isZero();

        for (String elsewhere : List.of("localhost:" + door, "127.0.0.1:" + (door + 1), "127.0.0.1:" + relay.port(),
                "127.0.0.2:" + door, "localhost:1")) {
            Result refused = ssh("-W", elsewhere, login());
            assertThat(refused.output()).as(elsewhere).contains("administratively prohibited");
            assertThat(refused.exitCode()).as(elsewhere).isNotZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Relay.class)
    void theKeyListensNowhereButTheTunnelsOwnListen(Relay kind) throws Exception {
        tunnelUp(kind);
        int other = OpenSshRelay.freePort();
        Result result = ssh("-N", "-o", "ExitOnForwardFailure=yes",
                "-R", "127.0.0.1:" + other + ":127.0.0.1:" + target.port(), login());
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).contains("remote port forwarding failed");
        assertThat(OpenSshRelay.listening(other)).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Relay.class)
    void theKeyForwardsNeitherAnAgentNorX11(Relay kind) throws Exception {
        tunnelUp(kind);
        // X11: the client says so when the relay turns the request down (a DISPLAY, even a fake one, makes it ask).
        Result x11 = ssh(Map.of("DISPLAY", "127.0.0.1:0"), "-X", "-o", "XAuthLocation=/nonexistent", login(), "true");
        assertThat(x11.output()).contains("X11 forwarding request failed");
        // Agent forwarding, with an agent to forward, is asked for without waiting for an answer: sshd's log says
        // it refused.
        Path agentSocket = keyFile.resolveSibling("agent.sock");
        sshAgent = HostCommand.SSH_AGENT.start("-D", "-a", agentSocket.toString());
        processes.add(sshAgent);
        await().atMost(PATIENCE).until(() -> Files.exists(agentSocket));
        ssh(Map.of("SSH_AUTH_SOCK", agentSocket.toString()), "-A", login(), "true");
        assertThat(Files.readString(relay.log())).contains("auth-agent-req");
        await().atMost(PATIENCE).until(() -> Files.readString(relay.log()).contains("agent forwarding disabled"));
    }

    /** Whether a SOCKS5 CONNECT to 127.0.0.1:port through the proxy succeeds. */
    private static boolean socksConnects(int proxy, int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", proxy), 5_000);
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            out.write(new byte[] {5, 1, 0});
            in.readFully(new byte[2]);
            out.write(new byte[] {5, 1, 0, 1, 127, 0, 0, 1, (byte) (port >> 8), (byte) port});
            byte[] reply = new byte[2];
            in.readFully(reply);
            return reply[1] == 0;
        } catch (IOException closedOrRefused) {
            return false;
        }
    }

    private static String readAll(Process process) throws IOException {
        try (InputStream in = process.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
