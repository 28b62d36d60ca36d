package dev.jumpgate.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * A real egress proxy on loopback, as a cluster that reaches the Internet only through one has: tinyproxy (HTTP
 * CONNECT, Basic auth, CONNECT allowed to the listed ports only) or microsocks (SOCKS5, username and password), both
 * from Debian. Each asks for credentials, with a password made for the test.
 */
public final class EgressProxy implements AutoCloseable {

    public static final String USER = "jumpgate";

    private final Path dir;
    private final int port;
    private final String password;
    private final Process process;

    private EgressProxy(Path dir, int port, String password, Process process) {
        this.dir = dir;
        this.port = port;
        this.password = password;
        this.process = process;
        await().atMost(Duration.ofSeconds(15)).until(() -> OpenSshRelay.listening(port) || !process.isAlive());
        if (!process.isAlive()) {
            throw new IllegalStateException("the proxy did not start: " + log());
        }
    }

    /** tinyproxy, letting CONNECT through to these ports only. */
    public static EgressProxy httpConnect(int... allowedPorts) {
        try {
            Path dir = Files.createTempDirectory("jumpgate-proxy");
            int port = OpenSshRelay.freePort();
            String password = newPassword();
            StringBuilder config = new StringBuilder()
                    .append("Port ").append(port).append('\n')
                    .append("Listen 127.0.0.1\n")
                    .append("Allow 127.0.0.1\n")
                    .append("Timeout 600\n")
                    .append("MaxClients 64\n")
                    .append("LogLevel Connect\n")
                    .append("BasicAuth ").append(USER).append(' ').append(password).append('\n');
            for (int allowed : allowedPorts) {
                config.append("ConnectPort ").append(allowed).append('\n');
            }
            Path file = Files.writeString(dir.resolve("tinyproxy.conf"), config);
            Process process = HostCommand.TINYPROXY.start(ProcessBuilder.Redirect.to(dir.resolve("proxy.log").toFile()),
                    "-d", "-c", file.toString());
            return new EgressProxy(dir, port, password, process);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** microsocks, with username and password. */
    public static EgressProxy socks5() {
        try {
            Path dir = Files.createTempDirectory("jumpgate-proxy");
            int port = OpenSshRelay.freePort();
            String password = newPassword();
            Process process = HostCommand.MICROSOCKS.start(ProcessBuilder.Redirect.to(dir.resolve("proxy.log").toFile()),
                    "-i", "127.0.0.1", "-p", Integer.toString(port), "-u", USER, "-P", password);
            return new EgressProxy(dir, port, password, process);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String newPassword() {
        byte[] bytes = new byte[9];
        new SecureRandom().nextBytes(bytes);
        return "pw-" + HexFormat.of().formatHex(bytes);
    }

    public int port() {
        return port;
    }

    public String password() {
        return password;
    }

    /** What the proxy logged: each connection it made, for a test to see that the agent went through it. */
    public String log() {
        try {
            return Files.readString(dir.resolve("proxy.log"));
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
