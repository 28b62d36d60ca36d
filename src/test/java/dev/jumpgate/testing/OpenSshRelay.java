package dev.jumpgate.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A stock OpenSSH sshd on a free loopback port, configured the way a relay owner would (key-only, TCP forwarding,
 * GatewayPorts clientspecified, sftp), in a directory of its own, with the block the README recommends for the
 * tunnels' account ({@link #RECOMMENDED_BLOCK}) unless started {@link #withoutRecommendedBlock}. Logins are for the
 * user running the tests, whom the block's "Match User tunnel" then names.
 */
public final class OpenSshRelay implements AutoCloseable {

    /** The relay's side of the tunnels, as the README gives it to relay owners. */
    public static final Path RECOMMENDED_BLOCK = Path.of("examples", "relay", "sshd_config.d", "jumpgate.conf");
    /** A jump host's side of the tunnels, as the README gives it to bastion owners. */
    public static final Path JUMP_HOST_BLOCK = Path.of("examples", "relay", "sshd_config.d", "jumpgate-jump-host.conf");
    private static final Path SSHD_CONFIG_TEMPLATE = Path.of("hack", "sshd_config.template");

    /** The relay's address that is not its localhost: what a wildcard listen bound to loopback only does not serve. */
    public static final String OTHER_ADDRESS = "127.0.0.2";

    private final Path dir;
    private final int port;
    private final List<String> extraConfig;
    private final Path block;
    private String hostKey;
    private Process process;

    private OpenSshRelay(Path dir, int port, List<String> extraConfig, Path block) throws IOException {
        this.dir = dir;
        this.port = port;
        this.extraConfig = extraConfig;
        this.block = block;
        newHostKey();
        Files.writeString(dir.resolve("authorized_keys"), "");
        writeConfig();
    }

    /**
     * Starts a relay with the recommended block; {@code extraConfig} lines come first in sshd_config, so they win
     * (sshd keeps the first value of a keyword), e.g. "PermitListen 127.0.0.1:4040" or "LogLevel DEBUG1".
     */
    public static OpenSshRelay start(String... extraConfig) {
        return start(RECOMMENDED_BLOCK, extraConfig);
    }

    /** A jump host with the block the README recommends for the tunnels' account on a bastion. */
    public static OpenSshRelay jumpHost(String... extraConfig) {
        return start(JUMP_HOST_BLOCK, extraConfig);
    }

    /** A relay whose owner only pasted the key's authorized_keys line: everything rests on the line's options. */
    public static OpenSshRelay withoutRecommendedBlock(String... extraConfig) {
        return start(null, extraConfig);
    }

    private static OpenSshRelay start(Path block, String... extraConfig) {
        try {
            if (!Files.isExecutable(Path.of(HostCommand.SSHD.toString()))) {
                throw new IllegalStateException(HostCommand.SSHD + " is missing: run hack/setup.sh (Debian's openssh-server)");
            }
            Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation directory, when root
            OpenSshRelay relay = new OpenSshRelay(Files.createTempDirectory("jumpgate-relay"), freePort(),
                    List.of(extraConfig), block);
            relay.startProcess();
            return relay;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    public String user() {
        return System.getProperty("user.name");
    }

    /** The relay's host key as ssh-keygen wrote it: "ssh-ed25519 AAAA... relay". */
    public String hostKey() {
        return hostKey;
    }

    /** Gives the relay a new host key (taking effect at the next start), as a reinstalled or impostor relay has. */
    public void newHostKey() throws IOException {
        Files.deleteIfExists(dir.resolve("host_ed25519"));
        Files.deleteIfExists(dir.resolve("host_ed25519.pub"));
        HostCommand.SSH_KEYGEN.run(Duration.ofSeconds(30), "-q", "-t", "ed25519", "-N", "", "-C", "relay",
                "-f", dir.resolve("host_ed25519").toString()).orThrow();
        hostKey = Files.readString(dir.resolve("host_ed25519.pub")).trim();
    }

    /** Replaces authorized_keys with these lines. */
    public void authorize(String... lines) {
        try {
            Files.writeString(dir.resolve("authorized_keys"), String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops sshd and every session it serves, as a crash or a reboot of the relay would. */
    public void kill() {
        if (process != null) {
            thaw();
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    /** Stops sshd and its sessions dead without closing a socket, as a hung relay or a lost route would. */
    public void freeze() {
        signal("STOP");
    }

    public void thaw() {
        signal("CONT");
    }

    private void signal(String signal) {
        List<String> args = new ArrayList<>(List.of("-" + signal, Long.toString(process.pid())));
        process.descendants().forEach(p -> args.add(Long.toString(p.pid())));
        // Not checked: a session may end between listing and signalling it.
        HostCommand.KILL.run(Duration.ofSeconds(10), args.toArray(String[]::new));
    }

    /** Starts sshd again on the same port, with the same host key. */
    public void restart() {
        kill();
        startProcess();
    }

    /** How many connections sshd has accepted, from its log. */
    public long connectionsAccepted() {
        try {
            return Files.readAllLines(log()).stream().filter(l -> l.startsWith("Connection from")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path log() {
        return dir.resolve("sshd.log");
    }

    /** Whether something listens on this port of the relay's loopback. */
    public static boolean listening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        kill();
    }

    private void writeConfig() throws IOException {
        List<String> config = new ArrayList<>(extraConfig);
        config.addAll(List.of(
                "Port " + port,
                "ListenAddress 127.0.0.1",
                // A second address, which the relay's loopback-only listens (GatewayPorts no) do not cover: the
                // relay's name as the agent dials it, in the end-to-end check's tests.
                "ListenAddress " + OTHER_ADDRESS,
                "AllowTcpForwarding yes",
                "GatewayPorts clientspecified",
                "LogLevel VERBOSE"));
        // The host key, authorized_keys, logins: what every sshd of the project has.
        Files.readAllLines(SSHD_CONFIG_TEMPLATE).stream()
                .map(line -> line.replace("{{DIR}}", dir.toString()))
                .forEach(config::add);
        if (block != null) {
            // Last: a Match block runs to the end of the file. Its account is the user running the tests.
            Files.readAllLines(block).stream()
                    .map(line -> line.startsWith("Match User ") ? "Match User " + user() : line)
                    .forEach(config::add);
        }
        Files.write(dir.resolve("sshd_config"), config);
    }

    private void startProcess() {
        process = HostCommand.SSHD.start(ProcessBuilder.Redirect.appendTo(log().toFile()),
                "-D", "-e", "-f", dir.resolve("sshd_config").toString());
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("sshd exited: " + Files.readString(log()));
                    }
                    return listening(port);
                });
    }
}
