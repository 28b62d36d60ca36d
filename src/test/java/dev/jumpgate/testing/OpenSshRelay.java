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
 * GatewayPorts clientspecified), in a directory of its own. Logins are for the user running the tests.
 */
public final class OpenSshRelay implements AutoCloseable {

    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final Path SSH_KEYGEN = Path.of("/usr/bin/ssh-keygen");

    private final Path dir;
    private final int port;
    private final List<String> extraConfig;
    private String hostKey;
    private Process process;

    private OpenSshRelay(Path dir, int port, List<String> extraConfig) throws IOException, InterruptedException {
        this.dir = dir;
        this.port = port;
        this.extraConfig = extraConfig;
        newHostKey();
        Files.writeString(dir.resolve("authorized_keys"), "");
        writeConfig();
    }

    /** Starts a relay; {@code extraConfig} lines are appended to sshd_config (e.g. "PermitListen 127.0.0.1:4040"). */
    public static OpenSshRelay start(String... extraConfig) {
        try {
            if (!Files.isExecutable(SSHD)) {
                throw new IllegalStateException(SSHD + " is missing: run hack/setup.sh (Debian's openssh-server)");
            }
            Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation directory, when root
            OpenSshRelay relay = new OpenSshRelay(Files.createTempDirectory("jumpgate-relay"), freePort(), List.of(extraConfig));
            relay.startProcess();
            return relay;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
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
    public void newHostKey() throws IOException, InterruptedException {
        Files.deleteIfExists(dir.resolve("host_ed25519"));
        Files.deleteIfExists(dir.resolve("host_ed25519.pub"));
        run(SSH_KEYGEN.toString(), "-q", "-t", "ed25519", "-N", "", "-C", "relay", "-f", dir.resolve("host_ed25519").toString());
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
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal, Long.toString(process.pid())));
        process.descendants().forEach(p -> command.add(Long.toString(p.pid())));
        try {
            // Not checked: a session may end between listing and signalling it.
            new ProcessBuilder(command).redirectErrorStream(true).start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts sshd again on the same port, with the same host key. */
    public void restart() {
        kill();
        try {
            startProcess();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        List<String> config = new ArrayList<>(List.of(
                "Port " + port,
                "ListenAddress 127.0.0.1",
                "HostKey " + dir.resolve("host_ed25519"),
                "PidFile none",
                "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "AllowTcpForwarding yes",
                "GatewayPorts clientspecified",
                "LogLevel VERBOSE"));
        config.addAll(extraConfig);
        Files.write(dir.resolve("sshd_config"), config);
    }

    private void startProcess() throws IOException {
        process = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", dir.resolve("sshd_config").toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
                .start();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("sshd exited: " + Files.readString(log()));
                    }
                    return listening(port);
                });
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }
}
