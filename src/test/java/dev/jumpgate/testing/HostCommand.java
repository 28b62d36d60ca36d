package dev.jumpgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A program of the host that the tests run, and the one place where tests start processes. Each program is named in
 * a {@code new HostCommand("...")} below, where {@code hack/setup.sh --check} (hack/commands.py) finds it and checks
 * that the project's set-up installs it; a {@code ProcessBuilder} elsewhere in the tests fails that check.
 * Programs the project builds itself (kubectl, helm) come from the environment hack/test.sh sets.
 */
public final class HostCommand {

    public static final HostCommand SSHD = new HostCommand("/usr/sbin/sshd");
    public static final HostCommand SSH_KEYGEN = new HostCommand("ssh-keygen");
    public static final HostCommand SSH = new HostCommand("ssh");
    public static final HostCommand SFTP = new HostCommand("sftp");
    public static final HostCommand SSH_AGENT = new HostCommand("ssh-agent");
    public static final HostCommand KILL = new HostCommand("kill");
    public static final HostCommand TINYPROXY = new HostCommand("/usr/bin/tinyproxy");
    public static final HostCommand MICROSOCKS = new HostCommand("/usr/bin/microsocks");
    public static final HostCommand TOPOLOGY = new HostCommand("hack/topology.sh");

    private final String program;

    private HostCommand(String program) {
        this.program = program;
    }

    /** kubectl as hack/kubernetes/build.sh built it; hack/test.sh passes its path in JUMPGATE_KUBECTL. */
    public static HostCommand kubectl() {
        return built("JUMPGATE_KUBECTL");
    }

    /** helm as hack/kubernetes/build.sh built it; hack/test.sh passes its path in JUMPGATE_HELM. */
    public static HostCommand helm() {
        return built("JUMPGATE_HELM");
    }

    private static HostCommand built(String variable) {
        String path = System.getenv(variable);
        if (path == null || path.isBlank()) {
            throw new IllegalStateException(variable + " is not set: run the tests with hack/test.sh, which builds it");
        }
        return new HostCommand(path);
    }

    public record Result(int exitCode, String output) {

        /** The output, when the program succeeded; otherwise an exception that carries the output. */
        public String orThrow() {
            if (exitCode != 0) {
                throw new IllegalStateException("exit status " + exitCode + ": " + output);
            }
            return output;
        }
    }

    /** Runs the program with these arguments to its end (at most {@code timeout}), stdout and stderr together. */
    public Result run(Duration timeout, String... args) {
        return run(timeout, Map.of(), args);
    }

    /** {@link #run(Duration, String...)} with these variables added to the environment. */
    public Result run(Duration timeout, Map<String, String> environment, String... args) {
        List<String> command = command(args);
        try {
            // No input (a command that reads it, like ssh -W, gets its end at once), and the output read beside the
            // wait, so that the timeout holds for a command that never closes it.
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            builder.environment().putAll(environment);
            Process process = builder.start();
            java.util.concurrent.CompletableFuture<String> output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "";
                }
            });
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in " + timeout);
            }
            try {
                return new Result(process.exitValue(), output.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException(String.join(" ", command) + ": its output did not end", e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts the program; the caller reads its output (stdout and stderr together) and waits for it. */
    public Process start(String... args) {
        return start(ProcessBuilder.Redirect.PIPE, args);
    }

    /** Starts the program with its output (stdout and stderr together) going where {@code output} says. */
    public Process start(ProcessBuilder.Redirect output, String... args) {
        try {
            return new ProcessBuilder(command(args)).redirectErrorStream(true).redirectOutput(output).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The program's path or name, as the tests' messages show it. */
    @Override
    public String toString() {
        return program;
    }

    private List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of(program));
        command.addAll(List.of(args));
        return command;
    }
}
