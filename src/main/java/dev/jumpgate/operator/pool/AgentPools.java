package dev.jumpgate.operator.pool;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.contract.PoolConfig;
import dev.jumpgate.contract.PoolConfig.Member;
import dev.jumpgate.operator.AgentPodConfig;
import dev.jumpgate.operator.Names;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Hands tunnels to their agents. Each tunnel's reconcile puts its own entry into its agent's {@link PoolConfig} (or
 * takes it out: an unusable spec or key, a move to another pool, a deletion) and leaves the other members' entries
 * as they were written, so a member's change reaches its agent alone, and members that are gone from the cluster
 * are dropped. The agent's objects ({@link AgentObjects}) are applied when its members change; an agent left
 * without members is removed. One agent's objects are written by one reconcile at a time, from what this operator
 * last wrote (read once from the ConfigMap after a restart) and every member's change since.
 */
@ApplicationScoped
public class AgentPools {

    private static final Logger LOG = Logger.getLogger(AgentPools.class);
    private static final String FIELD_MANAGER = "jumpgate-operator";
    /** Objects unchanged this long are applied again anyway: one deleted by hand comes back. */
    private static final Duration REAPPLY = Duration.ofMinutes(5);

    @Inject
    AgentPodConfig pods;

    @Inject
    KubernetesClient client;

    @ConfigProperty(name = "quarkus.operator-sdk.enable-ssa", defaultValue = "true")
    boolean serverSideApply;

    private final Map<String, Pool> pools = new ConcurrentHashMap<>();

    /**
     * One agent's members as the tunnels' reconciles want them, and as they were last written. Reconciles of many
     * members at once (1000 tunnels applied together) each change their own entry; one of them at a time writes, and
     * writes what all the others changed meanwhile too: a pool of 100 new members is a few writes, not 100.
     */
    private static final class Pool {
        Map<String, Member> wanted;
        PoolConfig written;
        long writtenAtNanos;
        boolean writing;
        boolean dirty;
    }

    /**
     * Serves {@code tunnel} with {@code entry} in the agent {@code agent}, or no longer when {@code entry} is null.
     * {@code tunnels} is the operator's cache of ReverseTunnels, from which the members' presence is judged. When
     * another reconcile is writing this agent's objects, returns at once: that one writes this change too.
     */
    public void sync(ReverseTunnel tunnel, String agent, Member entry, ResourceCache<ReverseTunnel> tunnels) {
        String namespace = tunnel.getMetadata().getNamespace();
        String key = namespace + "/" + agent;
        Pool pool = pools.computeIfAbsent(key, k -> new Pool());
        synchronized (pool) {
            if (pool.wanted == null) {
                pool.written = read(namespace, agent);
                pool.wanted = new TreeMap<>();
                pool.written.members().forEach(m -> pool.wanted.put(m.tunnel(), m));
            }
            Member before = entry != null ? pool.wanted.put(entry.tunnel(), entry)
                    : pool.wanted.remove(tunnel.getMetadata().getName());
            pool.dirty |= !Objects.equals(before, entry);
            if (pool.writing) {
                return; // the writer of the moment takes this change with it
            }
            pool.writing = true;
        }
        try {
            while (writeOnce(pool, key, namespace, agent, tunnels)) {
                // again, with what other members changed while it wrote
            }
        } finally {
            synchronized (pool) {
                pool.writing = false;
            }
        }
    }

    /** One write of the agent's objects, when its members changed or it is time to refresh; false when done. */
    private boolean writeOnce(Pool pool, String key, String namespace, String agent, ResourceCache<ReverseTunnel> tunnels) {
        PoolConfig config;
        List<ReverseTunnel> owners;
        synchronized (pool) {
            pool.wanted.keySet().removeIf(name -> !belongs(tunnels.get(new ResourceID(name, namespace)).orElse(null), agent));
            config = new PoolConfig(List.copyOf(pool.wanted.values()));
            boolean fresh = System.nanoTime() - pool.writtenAtNanos < REAPPLY.toNanos();
            pool.dirty = false;
            if (config.equals(pool.written) && fresh) {
                return false;
            }
            owners = config.members().stream().map(m -> tunnels.get(new ResourceID(m.tunnel(), namespace)).orElse(null))
                    .filter(Objects::nonNull).toList();
        }
        if (config.members().isEmpty()) {
            remove(namespace, agent);
            synchronized (pool) {
                pool.written = config;
                if (pool.dirty) {
                    return true; // a member came while its agent went: make it again
                }
                pools.remove(key, pool);
                return false;
            }
        }
        boolean dedicated = owners.size() == 1 && owners.get(0).getSpec().placement().dedicated();
        for (HasMetadata object : new AgentObjects(agent, namespace, dedicated, owners, config).all(pods)) {
            apply(object);
        }
        synchronized (pool) {
            if (!config.equals(pool.written)) {
                LOG.infof("agent %s/%s serves %d tunnel(s)", namespace, agent, config.members().size());
            }
            pool.written = config;
            pool.writtenAtNanos = System.nanoTime();
            return pool.dirty;
        }
    }

    /**
     * Takes the tunnel out of every other agent of its namespace that this operator has written it into: a tunnel
     * moved to another pool (or to a pod of its own) leaves its old one at once. {@code previous} is the agent its
     * status last named, which covers a move made while the operator was away.
     */
    public void leaveOthers(ReverseTunnel tunnel, String agent, String previous, ResourceCache<ReverseTunnel> tunnels) {
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

    /** The members the agent's ConfigMap lists now: what the operator wrote before it restarted. */
    private PoolConfig read(String namespace, String agent) {
        ConfigMap existing = client.configMaps().inNamespace(namespace).withName(agent).get();
        String json = existing == null || existing.getData() == null ? null
                : existing.getData().get(AgentContract.POOL_CONFIG_KEY);
        try {
            return json == null ? new PoolConfig(List.of()) : Serialization.unmarshal(json, PoolConfig.class);
        } catch (RuntimeException e) {
            LOG.warnf("the ConfigMap %s/%s holds no readable pool config; writing it anew", namespace, agent);
            return new PoolConfig(List.of());
        }
    }

    private void apply(HasMetadata object) {
        if (serverSideApply) {
            client.resource(object).patch(new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
                    .withFieldManager(FIELD_MANAGER).withForce(true).build());
        } else {
            client.resource(object).createOr(existing -> existing.update());
        }
    }

    /** An agent without members goes: its pod first, so that no session outlives its rights. */
    private void remove(String namespace, String agent) {
        LOG.infof("agent %s/%s serves no tunnel any more: removing it", namespace, agent);
        for (Class<? extends HasMetadata> kind : List.of(Deployment.class, NetworkPolicy.class, RoleBinding.class,
                Role.class, ServiceAccount.class, ConfigMap.class)) {
            client.resources(kind).inNamespace(namespace).withName(agent).delete();
        }
    }
}
