package dev.jumpgate.operator.pool;

import dev.jumpgate.api.v1alpha1.AgentStatus;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.operator.status.TunnelObservation.HandOverProblem;
import dev.jumpgate.report.ReportText;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.contract.PoolConfig;
import dev.jumpgate.contract.PoolConfig.Member;
import dev.jumpgate.operator.AgentPodConfig;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.ResourceCache;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Hands tunnels to their agents. Each tunnel's reconcile puts its own entry into its agent's {@link PoolConfig} (or
 * takes it out: an unusable spec or key, a move to another pool, a deletion) and leaves the other members' entries
 * as they were written, so a member's change reaches its agent alone, and members that are gone from the cluster
 * are dropped. The agent's objects ({@link AgentObjects}) are written by a writer thread, at most one per agent at a
 * time, which takes every change made within {@link #BATCH} with it: 100 tunnels applied together are a few writes,
 * not 100, and no reconcile thread waits for the API server on behalf of another tunnel. A join returns once its
 * entry is accepted (the agent's own report in the Lease then says when it serves it); a leave returns once the
 * list no longer holds the tunnel, so that a deleted tunnel's finalizer, Lease and key go only after its agent let
 * it go. An agent left without members is removed.
 */
@ApplicationScoped
public class AgentPools {

    private static final Logger LOG = Logger.getLogger(AgentPools.class);
    private static final String FIELD_MANAGER = "jumpgate-operator";
    /** Objects unchanged this long are applied again anyway: one deleted by hand comes back. */
    private static final Duration REAPPLY = Duration.ofMinutes(5);
    /** Changes to one agent's members within this long go to the API server in one write. */
    static final Duration BATCH = Duration.ofMillis(250);
    /** The least time between two writes of one agent's list, per member, and its most. */
    static final Duration GAP_PER_MEMBER = Duration.ofMillis(50);
    static final Duration MAX_GAP = Duration.ofSeconds(5);
    /** A failed write is tried again after 1 s, doubling up to this. */
    private static final Duration RETRY_MAX = Duration.ofSeconds(30);
    /** How often the members are compared with the tunnels there are: a deleted tunnel leaves within this. */
    static final Duration DEPARTED_SWEEP = Duration.ofSeconds(2);
    /** Writes of different agents at once: each is a few requests, waiting on the API server, not on a core. */
    private static final int WRITERS = 4;
    /** The kinds of an agent's objects, in the order they go: the pod first, so that no session outlives its rights. */
    private static final List<Class<? extends HasMetadata>> KINDS = List.of(Deployment.class, NetworkPolicy.class,
            RoleBinding.class, Role.class, ServiceAccount.class, Secret.class, Lease.class);

    @Inject
    AgentPodConfig pods;

    @Inject
    KubernetesClient client;

    @ConfigProperty(name = "quarkus.operator-sdk.enable-ssa", defaultValue = "true")
    boolean serverSideApply;

    /** Every agent this operator has written to, by namespace/name; kept when empty, so one lock per agent, ever. */
    private final Map<String, Pool> pools = new ConcurrentHashMap<>();
    /** Namespaces whose agents of before pools (one per tunnel, labelled with the tunnel) are gone. */
    private final Set<String> legacyRemoved = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService writers = Executors.newScheduledThreadPool(WRITERS, task -> {
        Thread thread = new Thread(task, "agent-writer");
        thread.setDaemon(true);
        return thread;
    });

    /** Not in a constructor: the bean's client proxy is constructed too, and would start a sweep of its own. */
    @PostConstruct
    void startSweep() {
        writers.scheduleWithFixedDelay(this::dropDeparted, DEPARTED_SWEEP.toMillis(), DEPARTED_SWEEP.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * One agent's members as the tunnels' reconciles want them, and as they were last written. {@code requested}
     * counts the changes asked, {@code done} the ones on the API server; one writer at a time, on {@link #writers}.
     */
    private static final class Pool {
        final String namespace;
        final String agent;
        Map<String, Member> wanted;
        /** The JSON size of each wanted member, and their sum: what the list will take. */
        final Map<String, Integer> sizes = new HashMap<>();
        long wantedBytes;
        PoolConfig applied;
        /** When the last write (successful or not) ended. */
        long writtenAtNanos;
        /** What the running write sends; null between writes. With {@code applied} (null: unknown, after a failed
         * write): what the API server may hold. */
        PoolConfig sending;
        long appliedAtNanos;
        /** The operator's cache of tunnels, from which the members' presence is judged at each write. */
        ResourceCache<ReverseTunnel> tunnels;
        long requested;
        long done;
        /** A write is queued; one is running. Never two of either. */
        boolean scheduled;
        boolean writing;
        /** Whether this process has written the agent's objects once: until then a join waits to see it work. */
        boolean written;
        /** Why the last write failed, and the changes it was to carry; null after a write that worked. */
        RuntimeException failure;
        long failedCovers;
        int failures;
        /** The uid of the agent's list on the API server, owner of its other objects; null while there is none. */
        String listUid;
        /** A digest of each object as last applied, by kind: one that did not change is not sent again. */
        final Map<String, String> sent = new HashMap<>();

        Pool(String namespace, String agent) {
            this.namespace = namespace;
            this.agent = agent;
        }

        void want(Member entry, int size) {
            Integer before = sizes.put(entry.tunnel(), size);
            wantedBytes += size - (before == null ? 0 : before);
            wanted.put(entry.tunnel(), entry);
        }

        boolean drop(String tunnel) {
            Integer before = sizes.remove(tunnel);
            wantedBytes -= before == null ? 0 : before;
            return wanted.remove(tunnel) != null;
        }

        boolean refreshDue() {
            return System.nanoTime() - appliedAtNanos >= REAPPLY.toNanos();
        }
    }

    /**
     * Serves {@code tunnel} with {@code entry} in the agent its spec names, or no longer when {@code entry} is null;
     * first takes it out of every other agent it was in, so that a tunnel moved between pools is never served twice.
     * {@code tunnels} is the operator's cache of ReverseTunnels, from which the members' presence is judged. Returns
     * why the entry was not taken (the agent's list has no room for it: its old entry, if any, stays), or null.
     */
    public HandOverProblem place(ReverseTunnel tunnel, Member entry, ResourceCache<ReverseTunnel> tunnels) {
        String agent = Names.agentOf(tunnel);
        AgentStatus before = tunnel.getStatus() == null ? null : tunnel.getStatus().getAgent();
        leaveOthers(tunnel, agent, before == null ? null : before.getDeployment(), tunnels);
        return entry == null ? leave(tunnel, agent, tunnels) : join(tunnel, agent, entry, tunnels);
    }

    /** Puts the entry into the agent's list; returns once it is taken, without waiting for the write (but see below). */
    private HandOverProblem join(ReverseTunnel tunnel, String agent, Member entry, ResourceCache<ReverseTunnel> tunnels) {
        Pool pool = pool(tunnel.getMetadata().getNamespace(), agent, tunnels);
        long mine;
        synchronized (pool) {
            if (!entry.equals(pool.wanted.get(entry.tunnel()))) {
                // Only a new or changed entry can take more room: an unchanged one is not measured again.
                int size = jsonBytes(entry);
                Integer before = pool.sizes.get(entry.tunnel());
                long after = pool.wantedBytes - (before == null ? 0 : before) + size + pool.sizes.size() + 16;
                if (after > PoolConfig.MAX_JSON_BYTES && (before == null || size > before)) {
                    return new HandOverProblem(Reasons.POOL_FULL, "the list of agent " + agent + " has no room for "
                            + "this tunnel (" + pool.wanted.size() + " tunnels in " + pool.wantedBytes / 1024
                            + " KiB of " + PoolConfig.MAX_JSON_BYTES / 1024 + " KiB)" + (before == null ? ""
                                    : "; it serves the tunnel's previous spec")
                            + ": name another pool (spec.agent.pool) or set spec.agent.dedicated");
                }
                pool.want(entry, size);
                request(pool);
            } else if (pool.refreshDue() && !pool.scheduled && !pool.writing) {
                request(pool);
            }
            mine = pool.requested;
            // The first write of an agent is waited for: a name taken by someone else's object, or rights the
            // operator lacks, then show in this tunnel's status at once. Later writes fail (and are retried) alone.
            if (!pool.written) {
                awaitWrite(pool, mine);
            } else if (pool.failure != null) {
                throw new IllegalStateException("the objects of agent " + agent + " could not be written (retrying): "
                        + pool.failure.getMessage(), pool.failure);
            }
        }
        return null;
    }

    /** Takes the tunnel out of the agent's list; returns once the list on the API server no longer holds it. */
    private HandOverProblem leave(ReverseTunnel tunnel, String agent, ResourceCache<ReverseTunnel> tunnels) {
        Pool pool = pool(tunnel.getMetadata().getNamespace(), agent, tunnels);
        String name = tunnel.getMetadata().getName();
        synchronized (pool) {
            if (pool.drop(name)) {
                request(pool);
            }
            if (pool.applied == null || listed(pool.applied, name) || listed(pool.sending, name)) {
                awaitWrite(pool, pool.requested); // a removal queued before this call counts too
            }
        }
        return null;
    }

    private static boolean listed(PoolConfig config, String tunnel) {
        return config != null && config.members().stream().anyMatch(m -> m.tunnel().equals(tunnel));
    }

    /** The agent's state, read from its list on the API server the first time (what the operator wrote before). */
    private Pool pool(String namespace, String agent, ResourceCache<ReverseTunnel> tunnels) {
        removeLegacyAgents(namespace);
        Pool pool = pools.computeIfAbsent(namespace + "/" + agent, k -> new Pool(namespace, agent));
        synchronized (pool) {
            pool.tunnels = tunnels;
            if (pool.wanted == null) {
                pool.applied = read(pool, namespace, agent);
                pool.wanted = new TreeMap<>();
                pool.applied.members().forEach(m -> pool.want(m, jsonBytes(m)));
            }
        }
        return pool;
    }

    /**
     * Takes deleted tunnels (and tunnels moved elsewhere meanwhile) out of their agents' lists. A deletion brings no
     * reconcile (tunnels carry no finalizer): the operator's cache, checked every {@link #DEPARTED_SWEEP}, tells.
     * Only memory is read here; a list with a departed member gets a write.
     */
    private void dropDeparted() {
        try {
            for (Pool pool : pools.values()) {
                synchronized (pool) {
                    if (pool.wanted != null && !departed(pool).isEmpty()) {
                        request(pool); // the writer drops them
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warnf("checking the agents' members for deleted tunnels failed: %s", e.getMessage()); // next sweep
        }
    }

    /** A change to write: queued (see {@link #nextWrite}) unless a write is queued or running (it writes it then). */
    private void request(Pool pool) {
        pool.requested++;
        if (!pool.scheduled && !pool.writing) {
            schedule(pool, nextWrite(pool));
        }
    }

    /**
     * When the agent's next write may go: {@link #BATCH} after the change, and, for an agent whose list was just
     * written, no sooner than {@link #GAP_PER_MEMBER} per member after that write (at most {@link #MAX_GAP}): each write
     * sends the whole list and Role, so an agent joined by tunnels one after the other is written every few seconds,
     * not at every join, while a single join to a quiet agent goes at once.
     */
    private static Duration nextWrite(Pool pool) {
        if (pool.writtenAtNanos == 0) {
            return BATCH;
        }
        Duration gap = GAP_PER_MEMBER.multipliedBy(pool.wanted.size());
        gap = gap.compareTo(MAX_GAP) > 0 ? MAX_GAP : gap;
        Duration wait = gap.minusNanos(System.nanoTime() - pool.writtenAtNanos);
        return wait.compareTo(BATCH) > 0 ? wait : BATCH;
    }

    private void schedule(Pool pool, Duration delay) {
        pool.scheduled = true;
        writers.schedule(() -> write(pool), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits, holding the pool's monitor, until change number {@code mine} is written, or a write of it failed. */
    private static void awaitWrite(Pool pool, long mine) {
        while (pool.done < mine) {
            if (pool.failure != null && pool.failedCovers >= mine) {
                throw new IllegalStateException("the objects of agent " + pool.agent + " could not be written: "
                        + pool.failure.getMessage(), pool.failure);
            }
            try {
                pool.wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the agent's objects were written", e);
            }
        }
    }

    /** One write of what the members want now, on a writer thread; queues the next if more came in meanwhile. */
    private void write(Pool pool) {
        PoolConfig config;
        List<ReverseTunnel> owners;
        long covers;
        boolean refresh;
        synchronized (pool) {
            pool.scheduled = false;
            pool.writing = true;
            String namespace = pool.namespace;
            departed(pool).forEach(pool::drop);
            config = new PoolConfig(List.copyOf(pool.wanted.values()));
            pool.sending = config;
            covers = pool.requested;
            refresh = pool.refreshDue();
            owners = config.members().stream()
                    .map(m -> pool.tunnels.get(new ResourceID(m.tunnel(), namespace)).orElse(null))
                    .filter(Objects::nonNull).toList();
        }
        RuntimeException failed = null;
        try {
            if (config.equals(pool.applied) && (!refresh || config.members().isEmpty())) {
                // nothing to send
            } else if (config.members().isEmpty()) {
                remove(pool.namespace, pool.agent);
                pool.listUid = null;
                pool.sent.clear();
            } else {
                writeObjects(pool, owners, config, refresh);
            }
        } catch (RuntimeException e) {
            failed = e;
            LOG.warnf("the objects of agent %s/%s could not be written: %s", pool.namespace, pool.agent,
                    ReportText.rootMessage(e, 300));
        }
        synchronized (pool) {
            pool.writing = false;
            pool.sending = null;
            pool.writtenAtNanos = System.nanoTime();
            if (failed == null) {
                if (!config.equals(pool.applied)) {
                    LOG.infof("agent %s/%s serves %d tunnel(s)", pool.namespace, pool.agent, config.members().size());
                }
                pool.applied = config;
                pool.appliedAtNanos = System.nanoTime();
                pool.done = covers;
                pool.written = true;
                pool.failure = null;
                pool.failures = 0;
            } else {
                // Part of the write may have landed (the list before the pod): what the API server holds is not
                // known, so the next write sends everything and a leave waits for it.
                pool.applied = null;
                pool.failure = failed;
                pool.failedCovers = covers;
                pool.failures++;
            }
            pool.notifyAll();
            if (pool.requested > pool.done && !pool.scheduled) {
                schedule(pool, failed == null ? nextWrite(pool) : retryAfter(pool.failures));
            }
        }
    }

    private static Duration retryAfter(int failures) {
        Duration delay = Duration.ofSeconds(1L << Math.min(failures - 1, 5));
        return delay.compareTo(RETRY_MAX) > 0 ? RETRY_MAX : delay;
    }

    private static int jsonBytes(Member member) {
        return Serialization.asJson(member).getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * The agent's objects, each only when it changed (or all at the refresh): the rights before the list that needs them
     * (a member joins with its key readable and its relay reachable), the pod last. A new agent's list goes first: it
     * owns the rest. Only the writer of the moment calls this.
     */
    private void writeObjects(Pool pool, List<ReverseTunnel> owners, PoolConfig config, boolean refresh) {
        String namespace = pool.namespace;
        String agent = pool.agent;
        boolean dedicated = owners.size() == 1 && owners.get(0).getSpec().placement().dedicated();
        if (pool.listUid == null) {
            HasMetadata list = new AgentObjects(agent, namespace, dedicated, owners, config, null).members();
            pool.listUid = applyIfChanged(pool, list, true).getMetadata().getUid();
        }
        AgentObjects objects = new AgentObjects(agent, namespace, dedicated, owners, config, pool.listUid);
        for (HasMetadata right : objects.rights(pods)) {
            applyIfChanged(pool, right, refresh);
        }
        applyIfChanged(pool, objects.members(), refresh);
        if (objects.standbys()) {
            applyIfChanged(pool, objects.leaderLease(), refresh);
        }
        applyIfChanged(pool, objects.deployment(pods), refresh);
    }

    /**
     * Applies the object unless it is what was last sent; returns what the API server holds (null when not sent).
     * Whether the name is taken by someone else's object is asked before the first apply of each kind, and at each
     * refresh: in between, only this operator writes that name with the agent's labels.
     */
    private HasMetadata applyIfChanged(Pool pool, HasMetadata object, boolean anyway) {
        String digest = digest(Serialization.asJson(object));
        String before = pool.sent.get(object.getKind());
        if (!anyway && digest.equals(before)) {
            return null;
        }
        HasMetadata applied = apply(pool.agent, object, anyway || before == null);
        pool.sent.put(object.getKind(), digest);
        return applied;
    }

    private static String digest(String json) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Takes the tunnel out of every other agent of its namespace that this operator has written it into, before it
     * joins its own: a tunnel moved to another pool (or to a pod of its own) is never served twice. {@code previous}
     * is the agent its status last named, which covers a move made while the operator was away.
     */
    private void leaveOthers(ReverseTunnel tunnel, String agent, String previous, ResourceCache<ReverseTunnel> tunnels) {
        String namespace = tunnel.getMetadata().getNamespace();
        String name = tunnel.getMetadata().getName();
        List<String> others = new ArrayList<>();
        pools.forEach((key, pool) -> {
            synchronized (pool) {
                if (pool.namespace.equals(namespace) && !pool.agent.equals(agent) && pool.wanted != null
                        && pool.wanted.containsKey(name)) {
                    others.add(pool.agent);
                }
            }
        });
        if (previous != null && !previous.equals(agent) && !others.contains(previous)) {
            others.add(previous);
        }
        others.forEach(other -> leave(tunnel, other, tunnels));
    }

    /** The members whose tunnel is deleted, or now wants another agent. */
    private static List<String> departed(Pool pool) {
        return pool.wanted.keySet().stream().filter(name -> !belongs(
                pool.tunnels.get(new ResourceID(name, pool.namespace)).orElse(null), pool.agent)).toList();
    }

    /** Whether the cached tunnel is (still) to be served by {@code agent}. */
    private static boolean belongs(ReverseTunnel tunnel, String agent) {
        return tunnel != null && tunnel.getMetadata().getDeletionTimestamp() == null
                && agent.equals(Names.agentOf(tunnel));
    }

    /**
     * The members the agent's list holds now: what the operator wrote before it restarted. Only an agent's own list
     * (it carries the agent's label) is read; anything else of that name is not the operator's to build on.
     */
    private PoolConfig read(Pool pool, String namespace, String agent) {
        Secret existing = client.secrets().inNamespace(namespace).withName(agent).get();
        if (existing == null || !ours(existing, agent) || existing.getData() == null
                || existing.getData().get(AgentContract.POOL_CONFIG_KEY) == null) {
            return new PoolConfig(List.of());
        }
        pool.listUid = existing.getMetadata().getUid();
        try {
            String json = new String(Base64.getDecoder().decode(existing.getData().get(AgentContract.POOL_CONFIG_KEY)),
                    StandardCharsets.UTF_8);
            return Serialization.unmarshal(json, PoolConfig.class);
        } catch (RuntimeException e) {
            LOG.warnf("the Secret %s/%s holds no readable pool list; writing it anew", namespace, agent);
            return new PoolConfig(List.of());
        }
    }

    /** Written by this operator for this agent: its labels say so. */
    private static boolean ours(HasMetadata object, String agent) {
        Map<String, String> labels = object.getMetadata().getLabels();
        return labels != null && Labels.OPERATOR.equals(labels.get(Labels.MANAGED_BY))
                && Labels.value(agent).equals(labels.get(Labels.AGENT));
    }

    /**
     * Applies one object, unless one of that name exists that is not this agent's (a user's Deployment that a pool
     * or tunnel name happens to match): that is refused, and the tunnel's status says so.
     */
    private HasMetadata apply(String agent, HasMetadata object, boolean checkOwner) {
        HasMetadata existing = !checkOwner ? null : client.resources(object.getClass())
                .inNamespace(object.getMetadata().getNamespace()).withName(object.getMetadata().getName()).get();
        if (existing != null && !ours(existing, agent)) {
            throw new IllegalStateException("a " + object.getKind() + " named " + object.getMetadata().getName()
                    + " exists that Jumpgate did not make; name the pool otherwise (spec.agent.pool)");
        }
        if (object instanceof Lease) {
            // Made, never written again: its spec is the agent's pods' (their election), and an update from here
            // would clear it. Made again at the refresh if someone deleted it.
            HasMetadata found = checkOwner ? existing : client.resources(object.getClass())
                    .inNamespace(object.getMetadata().getNamespace()).withName(object.getMetadata().getName()).get();
            return found != null ? found : client.resource(object).create();
        }
        if (serverSideApply) {
            return client.resource(object).patch(new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
                    .withFieldManager(FIELD_MANAGER).withForce(true).build());
        }
        return client.resource(object).createOr(current -> current.update());
    }

    @PreDestroy
    void stop() {
        writers.shutdownNow();
    }

    /** An agent without members goes, its objects found by its label: nothing else of that name is touched. */
    private void remove(String namespace, String agent) {
        LOG.infof("agent %s/%s serves no tunnel any more: removing it", namespace, agent);
        for (Class<? extends HasMetadata> kind : KINDS) {
            deleteEach(client.resources(kind).inNamespace(namespace).withLabel(Labels.AGENT, Labels.value(agent))
                    .list().getItems());
        }
    }

    /**
     * The agents of before pools, one per tunnel and labelled with it, go once per namespace: left running beside
     * the pool they would hold the same listens on the relay and write the same Leases.
     */
    private void removeLegacyAgents(String namespace) {
        if (!legacyRemoved.add(namespace)) {
            return;
        }
        for (Class<? extends HasMetadata> kind : KINDS.subList(0, 5)) {
            deleteEach(client.resources(kind).inNamespace(namespace).withLabel(Labels.TUNNEL)
                    .withLabel(Labels.COMPONENT, "agent").withoutLabel(Labels.AGENT).list().getItems());
        }
    }

    /**
     * One by one, by name: a delete by label is "deletecollection", a right the operator is not given (it would
     * let it empty a namespace of a kind at once).
     */
    private void deleteEach(List<? extends HasMetadata> objects) {
        objects.forEach(object -> client.resource(object).delete());
    }
}
