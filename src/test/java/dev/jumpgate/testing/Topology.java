package dev.jumpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The classic recipe's hosts in network namespaces, driven through hack/topology.sh (hack/e2e.sh sets them up). */
public final class Topology {

    public static final String LAB_IP = "10.8.92.10";
    public static final String RELAY_IP = "203.0.113.10";
    /** The relay as the laptop sees it. */
    public static final String RELAY_FROM_LAPTOP = "192.0.2.10";

    private Topology() {
    }

    public record Result(int exitCode, String output) {
    }

    public static Result run(String... args) {
        List<String> command = new ArrayList<>(List.of("hack/topology.sh"));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish");
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts a command on the laptop that runs on; the caller reads and waits for it. */
    public static Process startFromLaptop(String... sshArgs) throws IOException {
        List<String> command = new ArrayList<>(List.of("hack/topology.sh", "ssh-from-laptop"));
        command.addAll(List.of(sshArgs));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /** ssh -p PORT root@relay COMMAND, from the laptop: lands on the lab machine when the tunnel works. */
    public static Result sshFromLaptop(int port, String command) {
        return run("ssh-from-laptop", "-p", Integer.toString(port), "root@" + RELAY_FROM_LAPTOP, command);
    }

    public static String relayHostKey() {
        return run("relay-hostkey").output().trim();
    }

    public static void authorizeOnRelay(String authorizedKeyLines) {
        Result result = run("relay-authorize", authorizedKeyLines);
        if (result.exitCode() != 0) {
            throw new IllegalStateException(result.output());
        }
    }

    /** Whether the laptop can open a TCP connection to this port of the relay. */
    public static boolean relayListensForLaptop(int port) {
        return run("laptop", "timeout", "3", "bash", "-c", "</dev/tcp/" + RELAY_FROM_LAPTOP + "/" + port).exitCode() == 0;
    }
}
