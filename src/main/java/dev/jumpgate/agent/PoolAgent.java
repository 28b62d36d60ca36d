package dev.jumpgate.agent;

import dev.jumpgate.agent.KubernetesApi.ApiException;
import dev.jumpgate.agent.KubernetesApi.Watch;
import dev.jumpgate.agent.KubernetesApi.WatchEvent;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.SpecValidation;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.contract.PoolConfig;
import dev.jumpgate.contract.PoolConfig.Member;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * The agent in its pod: serves the tunnels its pool's Secret lists ({@link PoolConfig}, written by the operator),
 * one {@link TunnelAgent} and one Lease each. A member that joins gets its key read through the API and its own
 * session; one whose entry changed gets the change; one that left has its forwards cancelled; the others are not
 * touched, whatever happens to one of them. A member the agent cannot use (a spec it refuses, a key it cannot read)
 * is logged and retried on the next change or {@link #RETRY}: the operator reports it, and the others run on.
 *
 * <p>Following is a read, then a watch from the version read, renewed when the server ends it; a watch the server no
 * longer can serve (410 Gone) starts again from a read. Failures wait with a jittered backoff (1 s doubling to 30 s),
 * so a cluster of agents does not come back to a recovering API server in step.
 */
public final class PoolAgent implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PoolAgent.class);

    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    private static final Duration LAST_RETRY = Duration.ofSeconds(30);
    /** A member not taken up (its key unreadable) is tried again this often, besides on every change of the pool. */
    static final Duration RETRY = Duration.ofSeconds(10);
    /** How long a pass over the list waits for the keys it needs; a slower read goes on for the next pass. */
    static final Duration KEY_WAIT = Duration.ofSeconds(2);
    /** A watch the server ends sooner than this counts as a failure: it must not turn into a loop of watches. */
    private static final Duration SHORTEST_WATCH = Duration.ofSeconds(5);

    private final AgentRuntime runtime;
    private final KubernetesApi api;
    private final Settings settings;
    private final Thread follower;
    private final Thread watchdog;
    private final Map<String, Served> served = new HashMap<>();
    /** Entries refused as they are (a spec the agent cannot take): not parsed and logged again until they change. */
    private final Map<String, Member> refused = new HashMap<>();
    /** Key reads a few at once, and those under way, by tunnel/Secret/version: one slow Secret is read once. */
    private final ExecutorService keyReaders = Executors.newFixedThreadPool(4, task -> {
        Thread thread = new Thread(task, "jumpgate-key-read");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Future<Secrets>> reading = new ConcurrentHashMap<>();
    private PoolConfig latest = new PoolConfig(List.of());
    private final AtomicBoolean retryScheduled = new AtomicBoolean();
    private volatile boolean closed;
    private volatile Watch<Secret> watching;

    /** What the pod's environment (set by the operator) says: its namespace, its pool's Secret, its own name. */
    public record Settings(String namespace, String poolConfig, String holder) {
    }

    /** One member as it is served: the entry applied, its reporter. */
    private record Served(Member member, Secrets secrets, LeaseReporter reporter) {
    }

    /** What a member's session needs from Secrets: its key, and its proxy's credentials when it names any. */
    private record Secrets(Identity identity, ProxyCredentials proxy) {
    }

    private PoolAgent(AgentRuntime runtime, KubernetesApi api, Settings settings) {
        this.runtime = runtime;
        this.api = api;
        this.settings = settings;
        this.follower = SshThreads.start("jumpgate-pool-watch", this::follow);
        this.watchdog = SshThreads.start("jumpgate-pool-watchdog", this::restartDeadLoops);
    }

    /**
     * The list's first member as its TunnelAgent would be given it (its key read): what a standby warms up with and
     * watches the relay through ({@link HolderProbe}). Null when the list names none or its key cannot be read yet.
     */
    static TunnelConfig firstMember(KubernetesApi api, Settings settings) throws IOException {
        Secret list = api.secret(settings.namespace(), settings.poolConfig());
        PoolConfig config = list == null ? null : listIn(list);
        Member member = config == null || config.members() == null ? null
                : config.members().stream().filter(java.util.Objects::nonNull).findFirst().orElse(null);
        Secrets secrets = member == null ? null : readSecrets(api, settings.namespace(), member);
        if (secrets == null) {
            return null;
        }
        return tunnelConfig(member, Serialization.jsonMapper().treeToValue(member.spec(), ReverseTunnelSpec.class),
                secrets);
    }

    public static PoolAgent start(AgentRuntime runtime, KubernetesApi api, Settings settings) {
        LOG.infof("agent for the tunnels listed in Secret %s/%s", settings.namespace(), settings.poolConfig());
        return new PoolAgent(runtime, api, settings);
    }

    /** The follower thread: read, watch, renew, until closed. Members left untaken are retried between events. */
    private void follow() {
        Backoff backoff = new Backoff(FIRST_RETRY, LAST_RETRY, ThreadLocalRandom.current());
        String version = null;
        boolean failing = false;
        while (!closed) {
            long started = System.nanoTime();
            try {
                if (version == null) {
                    Secret config = api.secret(settings.namespace(), settings.poolConfig());
                    if (config == null) {
                        throw new ApiException(404, "no Secret " + settings.poolConfig() + " (yet)");
                    }
                    apply(config);
                    version = config.getMetadata().getResourceVersion();
                }
                version = watchFrom(version);
                if (failing) {
                    LOG.info("following the pool's Secret again");
                    failing = false;
                }
                if (System.nanoTime() - started >= SHORTEST_WATCH.toNanos()) {
                    backoff.reset();
                    continue;
                }
            } catch (ApiException e) {
                if (e.code() == 410) {
                    version = null; // too old to watch from: read again, at once
                    continue;
                }
                failing = warnOnce(failing, e);
            } catch (IOException | RuntimeException e) {
                if (closed) {
                    return;
                }
                failing = warnOnce(failing, e);
            }
            try {
                Thread.sleep(backoff.next().toMillis());
            } catch (InterruptedException e) {
                return; // closed
            }
        }
    }

    /** Applies the events of one watch; the resourceVersion to go on from, or null if it must read again. */
    private String watchFrom(String version) throws IOException {
        try (Watch<Secret> watch = api.watchSecret(settings.namespace(), settings.poolConfig(), version)) {
            watching = watch;
            if (closed) {
                return version;
            }
            for (WatchEvent<Secret> event = watch.next(); event != null; event = watch.next()) {
                switch (event.type()) {
                    case "ERROR" -> throw new ApiException(event.errorCode(), "the watch ended with an error");
                    case "ADDED", "MODIFIED" -> apply(event.object());
                    case "DELETED" -> LOG.info("the pool's Secret was deleted; the pod goes with it");
                    default -> {
                        // BOOKMARK: only a newer version to go on from
                    }
                }
                if (event.resourceVersion() != null) {
                    version = event.resourceVersion();
                }
            }
            return version;
        } finally {
            watching = null;
        }
    }

    private static boolean warnOnce(boolean failing, Exception e) {
        if (!failing) {
            LOG.warnf("cannot follow the pool's Secret (%s); retrying", e.getMessage());
        } else {
            LOG.debugf("still cannot follow the pool's Secret: %s", e.getMessage());
        }
        return true;
    }

    private void apply(Secret list) {
        PoolConfig config;
        try {
            config = listIn(list);
        } catch (RuntimeException e) {
            LOG.errorf("ignoring an unreadable pool config: %s", e.getMessage());
            return;
        }
        serve(config);
    }

    /** The members the pool's Secret lists (none when it holds no list); a RuntimeException when unreadable. */
    private static PoolConfig listIn(Secret list) {
        byte[] json = KubernetesApi.decoded(list).get(AgentContract.POOL_CONFIG_KEY);
        return json == null ? new PoolConfig(List.of())
                : Serialization.unmarshal(new String(json, StandardCharsets.UTF_8), PoolConfig.class);
    }

    /** What the member's TunnelAgent is given: its entry's spec and pinned key, with the Secrets read for it. */
    private static TunnelConfig tunnelConfig(Member member, ReverseTunnelSpec spec, Secrets secrets) {
        return new TunnelConfig(member.generation(), spec, secrets.identity(), member.acceptedHostKey(),
                secrets.proxy());
    }

    /** Brings the served members in line with {@code config}; members that did not change are not touched. */
    void serve(PoolConfig config) {
        synchronized (this) {
            latest = config;
        }
        serveLatest();
    }

    /**
     * Serves the newest list. The keys it needs (members new, or with a new key) are read first, outside the lock,
     * and members that left are stopped after it: a slow API server or a slow goodbye to a relay delays those
     * members alone, never another member's change.
     */
    private void serveLatest() {
        PoolConfig config;
        Map<String, Served> before;
        synchronized (this) {
            if (closed) {
                return; // stopped: no session starts again
            }
            config = latest;
            before = Map.copyOf(served);
        }
        Map<String, Secrets> keys = readKeys(config, before);
        List<Served> left = new ArrayList<>();
        List<TunnelAgent> stopping = new ArrayList<>();
        boolean untaken = false;
        synchronized (this) {
            if (closed || config != latest) {
                return; // a newer list came meanwhile: its own pass serves it
            }
            Set<String> wanted = new HashSet<>();
            for (Member member : config.members()) {
                if (member == null || member.tunnel() == null || !wanted.add(member.tunnel())) {
                    continue;
                }
                untaken |= !take(member, keys);
            }
            for (String gone : Set.copyOf(served.keySet())) {
                if (!wanted.contains(gone)) {
                    LOG.infof("tunnel %s left the pool: cancelling its forwards", gone);
                    left.add(served.remove(gone));
                    stopping.add(runtime.detach(gone));
                    reading.keySet().removeIf(read -> read.startsWith(gone + "/"));
                }
            }
            refused.keySet().retainAll(wanted);
            runtime.markStarted();
        }
        for (int i = 0; i < left.size(); i++) {
            stopLater(stopping.get(i), left.get(i).reporter());
        }
        if (untaken) {
            retryLater();
        }
    }

    /**
     * Stops a member's agent (its last report says so) and then its Lease writer, on a thread of their own: a relay
     * slow to say goodbye delays nobody, however many members leave at once.
     */
    private static void stopLater(TunnelAgent agent, LeaseReporter reporter) {
        SshThreads.start("jumpgate-pool-leave", () -> {
            if (agent != null) {
                agent.close();
            }
            reporter.close();
        });
    }

    /**
     * The keys of the members that need one read: new, or with a new key version. Null where it cannot be read, or
     * not within {@link #KEY_WAIT}: reads go a few at once and a slow one goes on for the next pass, so one Secret the
     * API server is slow to give holds back its own member only.
     */
    private Map<String, Secrets> readKeys(PoolConfig config, Map<String, Served> before) {
        Map<String, Future<Secrets>> asked = new HashMap<>(); // by read: tunnel/Secret/version/proxy Secret/version
        Set<String> tunnels = new HashSet<>();
        for (Member member : config.members()) {
            if (member == null || member.tunnel() == null || !tunnels.add(member.tunnel())) {
                continue;
            }
            Served current = before.get(member.tunnel());
            boolean sameKey = current != null && current.member().sameSecretsAs(member);
            if (!sameKey && !member.equals(refusedEntry(member.tunnel()))) {
                // Tunnel names are DNS labels (no '/'): the tunnel is what comes before the first one.
                String read = member.tunnel() + "/" + member.keySecret() + "/" + member.keyVersion() + "/"
                        + member.keyCertificateKey() + "/" + member.proxySecret() + "/" + member.proxyVersion();
                asked.put(read, reading.computeIfAbsent(read, r -> keyReaders.submit(() -> readKey(member))));
            }
        }
        Map<String, Secrets> keys = new HashMap<>();
        long deadline = System.nanoTime() + KEY_WAIT.toNanos();
        asked.forEach((read, future) -> {
            String tunnel = read.substring(0, read.indexOf('/'));
            try {
                keys.put(tunnel, future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                reading.remove(read, future); // used: a later pass reads again (a key that was missing may be there)
            } catch (TimeoutException e) {
                LOG.infof("tunnel %s: its key Secret is slow to come; the others go on", tunnel);
                keys.put(tunnel, null); // still under way: the next pass takes its result
            } catch (ExecutionException e) {
                reading.remove(read, future);
                keys.put(tunnel, null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                keys.put(tunnel, null);
            }
        });
        return keys;
    }

    private synchronized Member refusedEntry(String tunnel) {
        return refused.get(tunnel);
    }

    /**
     * Serves the member as its entry says, with the key read for it in {@code keys} when it needs a new one; false
     * when it cannot yet (retried later). A spec whose change comes with a key not readable yet goes ahead with the
     * key in use: the new key is read again at the retry.
     */
    private boolean take(Member member, Map<String, Secrets> keys) {
        Served current = served.get(member.tunnel());
        if (current != null && current.member().equals(member) || member.equals(refused.get(member.tunnel()))) {
            return true; // unchanged, or refused as it is: the next generation may do better
        }
        ReverseTunnelSpec spec;
        try {
            spec = Serialization.jsonMapper().treeToValue(member.spec(), ReverseTunnelSpec.class);
        } catch (IOException | IllegalArgumentException e) {
            LOG.warnf("tunnel %s: ignoring generation %d, its spec is unreadable: %s", member.tunnel(),
                    member.generation(), e.getMessage());
            refused.put(member.tunnel(), member);
            return true;
        }
        List<String> problems = spec == null ? List.of("no spec") : SpecValidation.problems(spec);
        if (!problems.isEmpty()) {
            LOG.warnf("tunnel %s: ignoring generation %d, its spec is invalid: %s", member.tunnel(), member.generation(),
                    String.join("; ", problems));
            refused.put(member.tunnel(), member);
            return true; // nothing a retry changes: the next generation will
        }
        refused.remove(member.tunnel());
        boolean sameKey = current != null && current.member().sameSecretsAs(member);
        Secrets secrets = sameKey ? current.secrets() : keys.get(member.tunnel());
        boolean keyPending = false;
        if (secrets == null) {
            if (current == null) {
                return false;
            }
            secrets = current.secrets();
            member = member.withSecretVersionsOf(current.member()); // differs from the list's: retried
            keyPending = true;
        }
        LeaseReporter reporter = current != null ? current.reporter()
                : new LeaseReporter(api, settings.namespace(), member.lease(), settings.holder());
        TunnelAgent agent = runtime.agents().get(member.tunnel());
        if (agent == null) {
            LOG.infof("tunnel %s joined the pool", member.tunnel());
            agent = runtime.start(member.tunnel(), reporter);
        }
        agent.apply(tunnelConfig(member, spec, secrets));
        served.put(member.tunnel(), new Served(member, secrets, reporter));
        return !keyPending;
    }

    /**
     * The member's private key, and its proxy's credentials when it names a Secret for them, read through the API;
     * null (logged) when one cannot be read.
     */
    private Secrets readKey(Member member) {
        return readSecrets(api, settings.namespace(), member);
    }

    private static Secrets readSecrets(KubernetesApi api, String namespace, Member member) {
        try {
            Map<String, byte[]> data = api.secretData(namespace, member.keySecret());
            byte[] key = data == null ? null : data.get(member.keyDataKey());
            if (key == null) {
                LOG.warnf("tunnel %s: no key %s in Secret %s (yet); retrying", member.tunnel(), member.keyDataKey(),
                        member.keySecret());
                return null;
            }
            ProxyCredentials proxy = null;
            if (member.proxySecret() != null) {
                Map<String, byte[]> credentials = api.secretData(namespace, member.proxySecret());
                byte[] user = credentials == null ? null : credentials.get(PoolConfig.USERNAME);
                byte[] password = credentials == null ? null : credentials.get(PoolConfig.PASSWORD);
                if (user == null || password == null) {
                    LOG.warnf("tunnel %s: no %s and %s in Secret %s (yet); retrying", member.tunnel(),
                            PoolConfig.USERNAME, PoolConfig.PASSWORD, member.proxySecret());
                    return null;
                }
                proxy = ProxyCredentials.of("Secret " + member.proxySecret(), user, password);
            }
            // The key's OpenSSH certificate, in the same Secret: the user's, or the operator's CA's.
            String certificateKey = member.keyCertificateKey();
            byte[] certificate = certificateKey == null ? null : data.get(certificateKey);
            if (certificateKey != null && certificate == null) {
                LOG.warnf("tunnel %s: no certificate %s in Secret %s (yet); retrying", member.tunnel(), certificateKey,
                        member.keySecret());
                return null;
            }
            return new Secrets(Identity.of("Secret " + member.keySecret(), key, certificate), proxy);
        } catch (IOException e) {
            LOG.warnf("tunnel %s: cannot read its Secrets %s (%s); retrying", member.tunnel(), member.keySecret()
                    + (member.proxySecret() == null ? "" : ", " + member.proxySecret()), e.getMessage());
            return null;
        }
    }

    /** One retry of the members not taken up, {@link #RETRY} from now, however many passes left some. */
    private void retryLater() {
        if (!retryScheduled.compareAndSet(false, true)) {
            return;
        }
        SshThreads.start("jumpgate-pool-retry", () -> {
            try {
                Thread.sleep(RETRY.toMillis());
            } catch (InterruptedException e) {
                return;
            } finally {
                retryScheduled.set(false);
            }
            serveLatest(); // the newest list, never an older one
        });
    }

    /**
     * Every {@link #RETRY}: a member whose loop died (a bug, not a relay's doing: the loop survives those) is started
     * again on its own, well before the pod's liveness probe (3 x 20 s) would restart every member with it.
     */
    private void restartDeadLoops() {
        while (!closed) {
            try {
                Thread.sleep(RETRY.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            boolean restart = false;
            synchronized (this) {
                Map<String, TunnelAgent> running = runtime.agents();
                for (String tunnel : Set.copyOf(served.keySet())) {
                    TunnelAgent agent = running.get(tunnel);
                    if (agent != null && !agent.isRunning() && !closed) {
                        LOG.errorf("tunnel %s: its loop stopped; starting it again", tunnel);
                        stopLater(runtime.detach(tunnel), served.remove(tunnel).reporter());
                        restart = true;
                    }
                }
            }
            if (restart) {
                serveLatest();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        follower.interrupt();
        watchdog.interrupt();
        keyReaders.shutdownNow();
        Watch<Secret> watch = watching;
        if (watch != null) {
            try {
                watch.close();
            } catch (IOException e) {
                LOG.debugf("closing the watch: %s", e.getMessage());
            }
        }
        try {
            follower.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            runtime.stop(); // each agent's last report says it stopped
            served.values().forEach(s -> s.reporter().close());
            served.clear();
        }
    }
}
