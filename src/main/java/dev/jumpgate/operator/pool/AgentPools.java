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
 * without members is removed. One agent's changes are made one at a time, under its lock, from what this operator
 * last wrote (read once from the ConfigMap after a restart).
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

    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final Map<String, Written> written = new ConcurrentHashMap<>();

    /** What was last written for one agent, and when. */
    private record Written(PoolConfig config, long atNanos) {
    }

    /**
     * Serves {@code tunnel} with {@code entry} in the agent {@code agent}, or no longer when {@code entry} is null.
     * {@code tunnels} is the operator's cache of ReverseTunnels, from which the members' presence is judged.
     */
    public void sync(ReverseTunnel tunnel, String agent, Member entry, ResourceCache<ReverseTunnel> tunnels) {
        String namespace = tunnel.getMetadata().getNamespace();
        String key = namespace + "/" + agent;
        synchronized (locks.computeIfAbsent(key, k -> new Object())) {
            Written before = written.computeIfAbsent(key, k -> new Written(read(namespace, agent), 0));
            Map<String, Member> members = new TreeMap<>();
            before.config().members().forEach(m -> members.put(m.tunnel(), m));
            if (entry != null) {
                members.put(entry.tunnel(), entry);
            } else {
                members.remove(tunnel.getMetadata().getName());
            }
            members.keySet().removeIf(name -> !belongs(tunnels.get(new ResourceID(name, namespace)).orElse(null), agent)
                    && !(entry != null && name.equals(entry.tunnel())));
            PoolConfig config = new PoolConfig(List.copyOf(members.values()));
            boolean fresh = System.nanoTime() - before.atNanos() < REAPPLY.toNanos();
            if (config.equals(before.config()) && fresh) {
                return;
            }
            if (config.members().isEmpty()) {
                remove(namespace, agent);
                written.remove(key);
                return;
            }
            List<ReverseTunnel> owners = config.members().stream()
                    .map(m -> m.tunnel().equals(tunnel.getMetadata().getName()) ? tunnel
                            : tunnels.get(new ResourceID(m.tunnel(), namespace)).orElse(null))
                    .filter(Objects::nonNull).toList();
            boolean dedicated = owners.size() == 1 && owners.get(0).getSpec().placement().dedicated();
            for (HasMetadata object : new AgentObjects(agent, namespace, dedicated, owners, config).all(pods)) {
                apply(object);
            }
            written.put(key, new Written(config, System.nanoTime()));
            if (!config.equals(before.config())) {
                LOG.infof("agent %s/%s serves %d tunnel(s)", namespace, agent, config.members().size());
            }
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
        List<String> others = written.entrySet().stream()
                .filter(e -> e.getKey().startsWith(namespace + "/") && !e.getKey().equals(namespace + "/" + agent))
                .filter(e -> e.getValue().config().members().stream().anyMatch(m -> m.tunnel().equals(name)))
                .map(e -> e.getKey().substring(namespace.length() + 1)).collect(java.util.stream.Collectors.toList());
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
