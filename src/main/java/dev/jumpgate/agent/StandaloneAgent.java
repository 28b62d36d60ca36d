package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.RelaySpec;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.SpecValidation;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ForwardReport;
import dev.jumpgate.ssh.PublicKeyLine;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The agent without a cluster, for the machine of the classic recipe that ran autossh:
 * {@code jumpgate agent --file tunnel.yaml --identity ~/.ssh/id_ed25519}. The same ReverseTunnel YAML, the same
 * agent, the same health and metrics; its reports go to the log. Several tunnels run in one process, as in a pool:
 * {@code --file} again for each file, and a file may hold several tunnels ("---" between them); each has its own
 * session, report and relay key file.
 */
public final class StandaloneAgent {

    private static final Logger LOG = Logger.getLogger(StandaloneAgent.class);
    /** A line that is only "---": YAML's document separator. */
    private static final java.util.regex.Pattern DOCUMENT_SEPARATOR = java.util.regex.Pattern.compile("(?m)^---[ \\t]*$");
    public static final String USAGE = "usage: jumpgate agent --file tunnel.yaml [--file more.yaml ...] --identity "
            + "~/.ssh/id_ed25519 [--known-hosts FILE] [--proxy-credentials DIR]\n       jumpgate authorized-key --file tunnel.yaml [--file ...] "
            + "--identity ~/.ssh/id_ed25519";

    /** A command line or file the agent cannot run with; the message says why, for a person. */
    public static final class BadInput extends Exception {
        BadInput(String message) {
            super(message);
        }
    }

    private final TunnelConfig config;
    private final ReverseTunnel tunnel;
    private final Path identityFile;
    private final Path knownHosts;

    private StandaloneAgent(TunnelConfig config, ReverseTunnel tunnel, Path identityFile, Path knownHosts) {
        this.config = config;
        this.tunnel = tunnel;
        this.identityFile = identityFile;
        this.knownHosts = knownHosts;
    }

    /**
     * Parses {@code --file F [--file G ...] --identity K [--known-hosts H]} and reads them, or says what is wrong.
     * With hostKeyPolicy AcceptNew, the relay's key accepted on first use is kept in H (only for a single tunnel;
     * default: F.known_hosts, or F.NAME.known_hosts for each tunnel of a file that holds several), so that a restart
     * does not trust a new one.
     */
    public static List<StandaloneAgent> parseAll(List<String> args) throws BadInput {
        List<Path> files = new ArrayList<>();
        Path identity = null;
        Path knownHosts = null;
        Path proxyCredentials = null;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if ((arg.equals("--file") || arg.equals("-f")) && i + 1 < args.size()) {
                files.add(Path.of(args.get(++i)));
            } else if ((arg.equals("--identity") || arg.equals("-i")) && i + 1 < args.size()) {
                identity = Path.of(args.get(++i));
            } else if (arg.equals("--known-hosts") && i + 1 < args.size()) {
                knownHosts = Path.of(args.get(++i));
            } else if (arg.equals("--proxy-credentials") && i + 1 < args.size()) {
                proxyCredentials = Path.of(args.get(++i));
            } else {
                throw new BadInput("unexpected argument " + arg + "\n" + USAGE);
            }
        }
        if (files.isEmpty() || identity == null) {
            throw new BadInput(USAGE);
        }
        Map<Path, List<ReverseTunnel>> byFile = new LinkedHashMap<>();
        for (Path file : files) {
            byFile.put(file, readAll(file));
        }
        int count = byFile.values().stream().mapToInt(List::size).sum();
        if (knownHosts != null && count > 1) {
            throw new BadInput("--known-hosts keeps one tunnel's relay key, and there are " + count + " tunnels: leave "
                    + "it out, and each keeps its own beside its file");
        }
        Map<String, Path> names = new HashMap<>();
        for (Map.Entry<Path, List<ReverseTunnel>> file : byFile.entrySet()) {
            for (ReverseTunnel tunnel : file.getValue()) {
                String name = name(tunnel);
                if (count > 1 && (tunnel.getMetadata() == null || tunnel.getMetadata().getName() == null)) {
                    throw new BadInput("a tunnel in " + file.getKey() + " has no metadata.name: with several tunnels, "
                            + "names tell their reports, metrics and relay key files apart");
                }
                Path other = names.putIfAbsent(name, file.getKey());
                if (other != null) {
                    throw new BadInput("two tunnels are named " + name + " (in " + other + " and " + file.getKey()
                            + "): names tell their reports, metrics and relay key files apart");
                }
                List<String> problems = SpecValidation.problems(tunnel.getSpec());
                if (!problems.isEmpty()) {
                    throw new BadInput(file.getKey() + (file.getValue().size() > 1 ? " (" + name + ")" : "")
                            + " is not a valid ReverseTunnel:\n  " + String.join("\n  ", problems));
                }
            }
        }
        refuseUnprotected(identity);
        Identity key;
        try {
            key = Identity.read(identity);
        } catch (IOException e) {
            throw new BadInput("cannot read the identity " + identity + ": " + e.getMessage());
        }
        boolean wanted = byFile.values().stream().flatMap(List::stream)
                .anyMatch(t -> t.getSpec().getRelay().getProxy() != null
                        && t.getSpec().getRelay().getProxy().getCredentialsSecret() != null);
        ProxyCredentials credentials = proxyCredentials == null ? null : readProxyCredentials(proxyCredentials);
        if (wanted && credentials == null) {
            throw new BadInput("a tunnel's proxy names credentials (spec.relay.proxy.credentialsSecret): give them with "
                    + "--proxy-credentials DIR, a directory with the files username and password (as a basic-auth Secret "
                    + "is mounted)");
        }
        List<StandaloneAgent> agents = new ArrayList<>();
        for (Map.Entry<Path, List<ReverseTunnel>> file : byFile.entrySet()) {
            for (ReverseTunnel tunnel : file.getValue()) {
                ProxyCredentials own = tunnel.getSpec().getRelay().getProxy() != null
                        && tunnel.getSpec().getRelay().getProxy().getCredentialsSecret() != null ? credentials : null;
                Path kept = knownHosts != null ? knownHosts : file.getValue().size() == 1
                        ? Path.of(file.getKey() + ".known_hosts")
                        : Path.of(file.getKey() + "." + name(tunnel) + ".known_hosts");
                agents.add(new StandaloneAgent(new TunnelConfig(1, tunnel.getSpec(), key, acceptedHostKey(kept), own),
                        tunnel, identity, kept));
            }
        }
        return agents;
    }

    /** The one tunnel the arguments name; refused when they name several. */
    public static StandaloneAgent parse(List<String> args) throws BadInput {
        List<StandaloneAgent> agents = parseAll(args);
        if (agents.size() != 1) {
            throw new BadInput("the files hold " + agents.size() + " tunnels, and one was expected");
        }
        return agents.get(0);
    }

    Path knownHosts() {
        return knownHosts;
    }

    /** The tunnel's name, as its file's metadata gives it. */
    String name() {
        return name(tunnel);
    }

    private static String name(ReverseTunnel tunnel) {
        return tunnel.getMetadata() == null || tunnel.getMetadata().getName() == null ? "tunnel"
                : tunnel.getMetadata().getName();
    }

    public TunnelConfig config() {
        return config;
    }

    /**
     * The relay key kept by an earlier run, or null when there is no file yet. A file that is there but holds no key
     * (emptied, truncated, overwritten) is refused rather than read as "trust the next key": that would hand trust on
     * first use to whoever answers next.
     */
    private static String acceptedHostKey(Path knownHosts) throws BadInput {
        if (!Files.exists(knownHosts)) {
            return null;
        }
        String kept;
        try {
            kept = Files.readString(knownHosts).trim();
        } catch (IOException e) {
            throw new BadInput("cannot read " + knownHosts + ": " + e.getMessage());
        }
        try {
            return PublicKeyLine.parse(kept).toKeyString();
        } catch (IllegalArgumentException e) {
            throw new BadInput(knownHosts + " holds no relay host key (it is empty or damaged), so the relay cannot be"
                    + " checked: restore it, or delete it to trust the key the relay shows next");
        }
    }

    /** As ssh does: a private key that others may read is not used. */
    /** A proxy's username and password from a directory laid out as a mounted basic-auth Secret. */
    private static ProxyCredentials readProxyCredentials(Path dir) throws BadInput {
        Path password = dir.resolve("password");
        refuseUnprotected(password);
        try {
            return ProxyCredentials.of("--proxy-credentials " + dir, Files.readString(dir.resolve("username")).strip()
                    .getBytes(StandardCharsets.UTF_8), Files.readString(password).strip().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new BadInput("cannot read the proxy credentials in " + dir + " (files username and password): "
                    + e.getMessage());
        }
    }

    private static void refuseUnprotected(Path identity) throws BadInput {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(identity);
        } catch (UnsupportedOperationException | IOException notPosixOrMissing) {
            return; // reading it says what is wrong with a missing file
        }
        if (permissions.stream().anyMatch(p -> p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_"))) {
            throw new BadInput("permissions " + PosixFilePermissions.toString(permissions) + " for " + identity
                    + " are too open: a private key or password must be readable by its owner only (chmod 600 " + identity + ")");
        }
    }

    /**
     * {@code jumpgate authorized-key --file F --identity K}: the line for the relay's authorized_keys that lets K
     * listen where the tunnel in F listens and do nothing else, the same line the operator puts in
     * status.authorizedKey; a line per tunnel when the files hold several. The public key is the one an OpenSSH
     * private key file carries, else K.pub.
     */
    public static String authorizedKey(List<String> args) throws BadInput {
        List<StandaloneAgent> agents = parseAll(args);
        Path identity = agents.get(0).identityFile;
        PublicKeyLine key;
        try {
            key = PublicKeyLine.fromOpenSshPrivateKey(
                    new String(agents.get(0).config.identity().privateKey(), StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException notOpenSsh) {
            Path pub = Path.of(identity + ".pub");
            try {
                key = PublicKeyLine.parse(Files.readString(pub).trim());
            } catch (IOException | IllegalArgumentException e) {
                throw new BadInput("cannot find the public key of " + identity + ": it is not an OpenSSH private key file,"
                        + " and " + pub + " " + (Files.exists(pub) ? "holds no public key" : "is missing"));
            }
        }
        PublicKeyLine publicKey = key;
        return agents.stream().map(a -> withJumpHostLines(a.tunnel, publicKey)).collect(Collectors.joining("\n"));
    }

    /**
     * The relay's line, then each jump host's and each fallback relay's under a comment that says whose
     * authorized_keys it goes to.
     */
    private static String withJumpHostLines(ReverseTunnel tunnel, PublicKeyLine key) {
        StringBuilder lines = new StringBuilder(tunnel.authorizedKeyLine(key));
        List<String> hops = tunnel.jumpHostKeyLines(key);
        for (int i = 0; i < hops.size(); i++) {
            var hop = tunnel.getSpec().getRelay().jumpHosts().get(i);
            lines.append("\n# for ~").append(hop.getUser()).append("/.ssh/authorized_keys on the jump host ")
                    .append(hop.where()).append('\n').append(hops.get(i));
        }
        List<RelaySpec> relays = tunnel.getSpec().relays();
        for (RelaySpec fallback : relays.subList(1, relays.size())) {
            lines.append("\n# for ~").append(fallback.getUser()).append("/.ssh/authorized_keys on the fallback relay ")
                    .append(fallback.where()).append('\n').append(tunnel.authorizedKeyLine(key, fallback));
        }
        return lines.toString();
    }

    /** The tunnels of one file: one YAML document each, "---" between them. */
    private static List<ReverseTunnel> readAll(Path file) throws BadInput {
        String yaml;
        try {
            yaml = Files.readString(file);
        } catch (IOException e) {
            throw new BadInput("cannot read " + file + ": " + e.getMessage());
        }
        List<ReverseTunnel> tunnels = new ArrayList<>();
        for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
            if (!document.lines().allMatch(line -> line.isBlank() || line.stripLeading().startsWith("#"))) {
                tunnels.add(read(file, document));
            }
        }
        if (tunnels.isEmpty()) {
            throw new BadInput(file + " holds no ReverseTunnel");
        }
        return tunnels;
    }

    private static ReverseTunnel read(Path file, String yaml) throws BadInput {
        try {
            // Kind and apiVersion as written: a typed read would fill them in from the class.
            GenericKubernetesResource raw = Serialization.unmarshal(yaml, GenericKubernetesResource.class);
            String expected = ReverseTunnel.GROUP + "/" + ReverseTunnel.VERSION;
            if (raw == null || !"ReverseTunnel".equals(raw.getKind()) || !expected.equals(raw.getApiVersion())) {
                throw new BadInput(file + " holds no ReverseTunnel (apiVersion " + expected + ", kind ReverseTunnel)");
            }
            return SpecValidation.read(yaml);
        } catch (RuntimeException e) {
            throw new BadInput(file + " is not a ReverseTunnel YAML: " + e.getMessage());
        }
    }

    public TunnelAgent start(AgentRuntime runtime) {
        LogReporter log = new LogReporter();
        TunnelAgent agent = runtime.start(name(), report -> {
            log.accept(report);
            keepFirstHostKey(report);
        });
        agent.apply(config);
        return agent;
    }

    /** Trust on first use, kept across restarts: what the operator does with status.relay.acceptedHostKey. */
    private void keepFirstHostKey(AgentReport report) {
        if (!config.trustsFirstUse() || config.acceptedHostKey() != null || !report.connected() || Files.exists(knownHosts)
                || report.relay() != null && report.relay() != 0) { // a fallback relay's key is never the preferred's
            return;
        }
        try {
            // Whole or not at all: a crash mid-write must not leave a file that holds half a key.
            Path partial = knownHosts.resolveSibling(knownHosts.getFileName() + ".partial");
            Files.writeString(partial, report.hostKey() + "\n");
            Files.move(partial, knownHosts, StandardCopyOption.ATOMIC_MOVE);
            LOG.infof("the relay's host key %s is kept in %s and required from now on", report.fingerprint(), knownHosts);
        } catch (IOException e) {
            LOG.warnf("cannot keep the relay's host key in %s: %s", knownHosts, e.getMessage());
        }
    }

    /**
     * One line per change of what the agent sees: the standalone agent's status. A newer check time alone (every
     * check makes one) is not a change.
     */
    static final class LogReporter implements Consumer<AgentReport> {
        private AgentReport logged;

        @Override
        public synchronized void accept(AgentReport report) {
            if (report.sameApartFromTimes(logged)) {
                return;
            }
            logged = report;
            String forwards = report.forwards().stream().map(LogReporter::describe).collect(Collectors.joining(", "));
            LOG.infof("%s: %s; forwards: %s", report.reason(), report.message(), forwards);
        }

        private static String describe(ForwardReport f) {
            return f.name() + "=" + f.state() + (f.remotePort() > 0 ? "(" + f.bindAddress() + ":" + f.remotePort() + ")" : "")
                    + (f.check() == null ? "" : " " + f.reason());
        }
    }
}
