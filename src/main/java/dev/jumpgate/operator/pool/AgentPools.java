package dev.jumpgate.operator.pool;

import dev.jumpgate.api.v1alpha1.AgentStatus;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.contract.PoolConfig;
import dev.jumpgate.contract.PoolConfig.Member;
import dev.jumpgate.operator.AgentPodConfig;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
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
 * are dropped. The agent's objects ({@link AgentObjects}) are applied when its members change; an agent left
 * without members is removed. One reconcile at a time writes an agent's objects, and writes every member's change
 * made meanwhile with its own: 100 tunnels applied together are a few writes, not 100. Every call returns once its
 * change is written, by itself or by the writer of the moment.
 */
@ApplicationScoped
public class AgentPools {

    private static final Logger LOG = Logger.getLogger(AgentPools.class);
    private static final String FIELD_MANAGER = "jumpgate-operator";
    /** Objects unchanged this long are applied again anyway: one deleted by hand comes back. */
    private static final Duration REAPPLY = Duration.ofMinutes(5);
    /** The kinds of an agent's objects, in the order they go: the pod first, so that no session outlives its rights. */
    private static final List<Class<? extends HasMetadata>> KINDS = List.of(Deployment.class, NetworkPolicy.class,
            RoleBinding.class, Role.class, ServiceAccount.class, Secret.class);

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

    /**
     * One agent's members as the tunnels' reconciles want them, and as they were last written. {@code requested}
     * counts the changes asked, {@code done} the ones on the API server; one caller at a time is the writer.
     */
    private static final class Pool {
        Map<String, Member> wanted;
        PoolConfig applied;
        long appliedAtNanos;
        long requested;
        long done;
        boolean writing;
        /** The uid of the agent's list on the API server, owner of its other objects; null while there is none. */
        String listUid;
        /** Each object as last applied (its JSON), by kind: one that did not change is not sent again. */
        final Map<String, String> sent = new HashMap<>();
    }

    /**
     * Serves {@code tunnel} with {@code entry} in the agent its spec names, or no longer when {@code entry} is null;
     * first takes it out of every other agent it was in, so that a tunnel moved between pools is never served twice.
     * {@code tunnels} is the operator's cache of ReverseTunnels, from which the members' presence is judged.
     */
    public void place(ReverseTunnel tunnel, Member entry, ResourceCache<ReverseTunnel> tunnels) {
        String agent = Names.agentOf(tunnel);
        AgentStatus before = tunnel.getStatus() == null ? null : tunnel.getStatus().getAgent();
        leaveOthers(tunnel, agent, before == null ? null : before.getDeployment(), tunnels);
        sync(tunnel, agent, entry, tunnels);
    }

    /** Serves {@code tunnel} with {@code entry} in the agent {@code agent}, or no longer when {@code entry} is null. */
    private void sync(ReverseTunnel tunnel, String agent, Member entry, ResourceCache<ReverseTunnel> tunnels) {
        String namespace = tunnel.getMetadata().getNamespace();
        removeLegacyAgents(namespace);
        Pool pool = pools.computeIfAbsent(namespace + "/" + agent, k -> new Pool());
        long mine;
        synchronized (pool) {
            if (pool.wanted == null) {
                pool.applied = read(pool, namespace, agent);
                pool.wanted = new TreeMap<>();
                pool.applied.members().forEach(m -> pool.wanted.put(m.tunnel(), m));
            }
            if (entry != null) {
                pool.wanted.put(entry.tunnel(), entry);
            } else {
                pool.wanted.remove(tunnel.getMetadata().getName());
            }
            mine = ++pool.requested;
            while (pool.writing && pool.done < mine) {
                try {
                    pool.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while the agent's objects were written", e);
                }
            }
            if (pool.done >= mine) {
                return; // written by the writer of the moment
            }
            pool.writing = true;
        }
        boolean more = true;
        try {
            while (more) {
                more = writeOnce(pool, namespace, agent, tunnels);
            }
        } finally {
            synchronized (pool) {
                pool.writing = false;
                pool.notifyAll(); // done, or failed: a waiting caller writes then, or sees its change written
            }
        }
    }

    /** One write of what the members want now; true when more changes came in meanwhile. */
    private boolean writeOnce(Pool pool, String namespace, String agent, ResourceCache<ReverseTunnel> tunnels) {
        PoolConfig config;
        List<ReverseTunnel> owners;
        long covers;
        boolean refresh;
        synchronized (pool) {
            pool.wanted.keySet().removeIf(name -> !belongs(tunnels.get(new ResourceID(name, namespace)).orElse(null), agent));
            config = new PoolConfig(List.copyOf(pool.wanted.values()));
            covers = pool.requested;
            refresh = System.nanoTime() - pool.appliedAtNanos >= REAPPLY.toNanos();
            if (config.equals(pool.applied) && (!refresh || config.members().isEmpty())) {
                pool.done = covers;
                pool.notifyAll();
                return false;
            }
            owners = config.members().stream().map(m -> tunnels.get(new ResourceID(m.tunnel(), namespace)).orElse(null))
                    .filter(Objects::nonNull).toList();
        }
        if (config.members().isEmpty()) {
            remove(namespace, agent);
            pool.listUid = null;
            pool.sent.clear();
        } else {
            write(pool, namespace, agent, owners, config, refresh);
        }
        synchronized (pool) {
            if (!config.equals(pool.applied)) {
                LOG.infof("agent %s/%s serves %d tunnel(s)", namespace, agent, config.members().size());
            }
            pool.applied = config;
            pool.appliedAtNanos = System.nanoTime();
            pool.done = covers;
            pool.notifyAll();
            return pool.requested > covers;
        }
    }

    /**
     * The agent's objects, each only when it changed (or all at the refresh): the rights before the list that needs them
     * (a member joins with its key readable and its relay reachable), the pod last. A new agent's list goes first: it
     * owns the rest. Only the writer of the moment calls this.
     */
    private void write(Pool pool, String namespace, String agent, List<ReverseTunnel> owners, PoolConfig config,
            boolean refresh) {
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
        applyIfChanged(pool, objects.deployment(pods), refresh);
    }

    /** Applies the object unless it is what was last sent; returns what the API server holds (null when not sent). */
    private HasMetadata applyIfChanged(Pool pool, HasMetadata object, boolean anyway) {
        String json = Serialization.asJson(object);
        if (!anyway && json.equals(pool.sent.get(object.getKind()))) {
            return null;
        }
        HasMetadata applied = apply(object);
        pool.sent.put(object.getKind(), json);
        return applied;
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
                if (key.startsWith(namespace + "/") && !key.equals(namespace + "/" + agent) && pool.wanted != null
                        && pool.wanted.containsKey(name)) {
                    others.add(key.substring(namespace.length() + 1));
                }
            }
        });
        if (previous != null && !previous.equals(agent) && !others.contains(previous)) {
            others.add(previous);
        }
        others.forEach(other -> sync(tunnel, other, null, tunnels));
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
    private HasMetadata apply(HasMetadata object) {
        HasMetadata existing = client.resources(object.getClass()).inNamespace(object.getMetadata().getNamespace())
                .withName(object.getMetadata().getName()).get();
        if (existing != null && !ours(existing, object.getMetadata().getName())) {
            throw new IllegalStateException("a " + object.getKind() + " named " + object.getMetadata().getName()
                    + " exists that Jumpgate did not make; name the pool otherwise (spec.agent.pool)");
        }
        if (serverSideApply) {
            return client.resource(object).patch(new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
                    .withFieldManager(FIELD_MANAGER).withForce(true).build());
        }
        return client.resource(object).createOr(current -> current.update());
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
