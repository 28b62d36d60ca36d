package dev.jumpgate.operator.pool;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.RelaySpec;
import dev.jumpgate.api.v1alpha1.SocksSpec;
import dev.jumpgate.ssh.HostNames;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.contract.PoolConfig;
import dev.jumpgate.operator.AgentPodConfig;
import dev.jumpgate.operator.Labels;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HTTPGetActionBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStrategy;
import io.fabric8.kubernetes.api.model.apps.DeploymentStrategyBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The objects of one agent (a pool's, or a dedicated tunnel's: a pool of one), as the operator wants them: the
 * Secret that lists its members, its ServiceAccount and the Role that lets it read exactly that list and its
 * members' key Secrets and patch exactly their Leases, the Deployment of its one pod, and its NetworkPolicy. The list
 * is owned by every member, everything else by the list, so the last member's deletion takes them all. Nothing
 * changes when a member joins but the list, the Role and the NetworkPolicy: the pod is never restarted for it.
 */
public final class AgentObjects {

    public static final String CONTAINER = "agent";
    public static final int HTTP_PORT = AgentContract.HTTP_PORT;
    /**
     * An agent has this long to start (2 s x 300: ten minutes) before the kubelet restarts it. A restart throws away
     * the CPU a start has spent: 100 dedicated agents starting at once on a 2-core node took over two minutes each
     * (the CPU shared by 100 JVMs), and with two minutes they were all killed and started again, round after round
     * (bench/pools.py). A start that hangs is rare; one that is slow is what a busy node does.
     */
    static final int STARTUP_PROBE_PERIOD_SECONDS = 2;
    static final int STARTUP_PROBE_FAILURES = 300;
    /** An answer that takes seconds on a busy node is slow, not dead (the kubelet's default gives 1 s). */
    static final int PROBE_TIMEOUT_SECONDS = 5;
    private static final Pattern IPV4 = Pattern.compile("^\\d{1,3}(\\.\\d{1,3}){3}$");

    private final String agent;
    private final String namespace;
    private final boolean dedicated;
    private final List<ReverseTunnel> tunnels;
    private final PoolConfig config;

    private final String listUid;

    /**
     * @param agent     the agent's name ({@code Names.agentOf})
     * @param dedicated whether it serves one tunnel that asked for a pod of its own
     * @param tunnels   its members, each with a usable spec and key: the owners of its list
     * @param config    what the agent is told of them
     * @param listUid   the uid of its list as the API server holds it, owner of every other object of the agent (so
     *                  that a member's arrival changes their owners not at all); null before the list is written
     */
    AgentObjects(String agent, String namespace, boolean dedicated, List<ReverseTunnel> tunnels, PoolConfig config,
            String listUid) {
        this.agent = agent;
        this.namespace = namespace;
        this.dedicated = dedicated;
        this.tunnels = tunnels;
        this.config = config;
        this.listUid = listUid;
    }

    /** What the agent may do and reach, applied before the list that needs it: a member joins with its key readable. */
    List<HasMetadata> rights(AgentPodConfig pods) {
        List<HasMetadata> rights = new ArrayList<>(List.of(serviceAccount(), role(), roleBinding()));
        if (pods.networkPolicy()) {
            rights.add(networkPolicy());
        }
        return rights;
    }

    /**
     * The list of members, in a Secret rather than a ConfigMap: it says which key Secret and which Lease each member
     * uses, so whoever may rewrite it may make the agent use any member's key. Those who may write Secrets in the
     * namespace may do that anyway; those who may only edit ConfigMaps may not.
     */
    Secret members() {
        return new SecretBuilder().withMetadata(ownedByMembers()).withType("Opaque")
                .withData(Map.of(AgentContract.POOL_CONFIG_KEY, Base64.getEncoder().encodeToString(
                        Serialization.asJson(config).getBytes(StandardCharsets.UTF_8)))).build();
    }

    ServiceAccount serviceAccount() {
        return new ServiceAccountBuilder().withMetadata(ownedByList()).build();
    }

    /**
     * Exactly what its members need: its list of members to read and follow, and each member's key Secret (and proxy
     * credentials' Secret, when it has one) to read, by name; each member's Lease to patch, by name. Never a tunnel, never another Secret or Lease of the namespace.
     * Never an empty list of names either, which RBAC would read as every name: an agent has a member, or is removed.
     */
    Role role() {
        List<String> secrets = config.members().stream()
                .flatMap(m -> java.util.stream.Stream.of(m.keySecret(), m.proxySecret()))
                .filter(java.util.Objects::nonNull).distinct().sorted().toList();
        List<String> leases = config.members().stream().map(PoolConfig.Member::lease).sorted().toList();
        if (secrets.isEmpty() || leases.isEmpty()) {
            throw new IllegalStateException("an agent without members has no Role: it is removed");
        }
        return new RoleBuilder()
                .withMetadata(ownedByList())
                .withRules(
                        new PolicyRuleBuilder().withApiGroups("").withResources("secrets")
                                .withResourceNames(agent).withVerbs("get", "list", "watch").build(),
                        new PolicyRuleBuilder().withApiGroups("").withResources("secrets")
                                .withResourceNames(secrets).withVerbs("get").build(),
                        new PolicyRuleBuilder().withApiGroups("coordination.k8s.io").withResources("leases")
                                .withResourceNames(leases).withVerbs("patch").build())
                .addAllToRules(standbys() ? List.of(new PolicyRuleBuilder().withApiGroups("coordination.k8s.io")
                        .withResources("leases").withResourceNames(leaderLeaseName()).withVerbs("get", "update")
                        .build()) : List.of())
                .build();
    }

    /**
     * Whether the agent runs standby pods, and so elects the one that serves. An agent of one pod does not: it needs
     * no Lease renewed every second, and is rolled out as before (Recreate).
     */
    boolean standbys() {
        return replicas() > 1;
    }

    /** The Lease by which the agent's pods elect the one that serves (agent/AgentLeadership); they write its spec. */
    public String leaderLeaseName() {
        return agent + "-leader"; // the tunnels' own Leases end in "-agent": no tunnel name makes this one
    }

    /**
     * One pod: Recreate, never two agents on the same listens. With standbys: a pod at a time replaced, the one that
     * serves handing over to a standby when it is its turn. One may be unavailable meanwhile: the pod that holds the
     * Lease is not ready until its forwards are bound, which, when it took over from a pod of before (no election),
     * is once that pod is gone.
     */
    private DeploymentStrategy strategy() {
        if (!standbys()) {
            return new DeploymentStrategyBuilder().withType("Recreate").build();
        }
        return new DeploymentStrategyBuilder().withType("RollingUpdate").withNewRollingUpdate()
                .withMaxSurge(new IntOrString(1)).withMaxUnavailable(new IntOrString(1)).endRollingUpdate().build();
    }

    /** With standbys: on other nodes where there are, so that one node lost or drained is not all of them. */
    private Affinity spread() {
        if (!standbys()) {
            return null;
        }
        return new AffinityBuilder().withNewPodAntiAffinity().addNewPreferredDuringSchedulingIgnoredDuringExecution()
                .withWeight(100).withNewPodAffinityTerm().withTopologyKey("kubernetes.io/hostname")
                .withNewLabelSelector().withMatchLabels(Labels.agentSelector(agent)).endLabelSelector()
                .endPodAffinityTerm().endPreferredDuringSchedulingIgnoredDuringExecution().endPodAntiAffinity().build();
    }

    /** That Lease, made here (an agent may not create Leases: RBAC cannot limit a create by name), empty. */
    Lease leaderLease() {
        ObjectMeta metadata = ownedByList();
        metadata.setName(leaderLeaseName());
        return new LeaseBuilder().withMetadata(metadata).build();
    }

    /** As many pods as the member that asks for most (spec.agent.replicas): one serves, the others stand by. */
    int replicas() {
        return tunnels.stream().mapToInt(t -> t.getSpec().placement().replicaCount()).max().orElse(1);
    }

    RoleBinding roleBinding() {
        return new RoleBindingBuilder()
                .withMetadata(ownedByList())
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", agent)
                .addNewSubject().withKind("ServiceAccount").withName(agent).withNamespace(namespace).endSubject()
                .build();
    }

    /**
     * The agent's one pod, the operator's own image in agent mode. Hardened as the restricted Pod Security Standard
     * asks: non-root, read-only root filesystem, no capabilities, no privilege escalation, the runtime's seccomp
     * profile. Nothing in it names a member: members come and go through its list, not through a new pod.
     */
    Deployment deployment(AgentPodConfig pods) {
        return new DeploymentBuilder()
                .withMetadata(ownedByList())
                .withNewSpec()
                .withReplicas(replicas())
                .withStrategy(strategy())
                .withNewSelector().withMatchLabels(Labels.agentSelector(agent)).endSelector()
                .withNewTemplate()
                .withNewMetadata().withLabels(Labels.ofAgent(agent)).endMetadata()
                .withNewSpec()
                .withServiceAccountName(agent)
                .withEnableServiceLinks(false)
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withRunAsUser(pods.runAsUser())
                .withRunAsGroup(pods.runAsUser())
                .withFsGroup(pods.runAsUser())
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .endSecurityContext()
                .withAffinity(spread())
                .withContainers(new ContainerBuilder()
                        .withName(CONTAINER)
                        .withImage(pods.image())
                        .withImagePullPolicy(pods.imagePullPolicy())
                        .withEnv(env())
                        .addNewPort().withName("http").withContainerPort(HTTP_PORT).endPort()
                        .withNewSecurityContext()
                        .withReadOnlyRootFilesystem(true)
                        .withAllowPrivilegeEscalation(false)
                        .withRunAsNonRoot(true)
                        .withNewCapabilities().withDrop("ALL").endCapabilities()
                        .endSecurityContext()
                        .withNewResources()
                        .withRequests(Map.of("cpu", new Quantity(pods.cpuRequest()),
                                "memory", new Quantity(dedicated ? pods.memoryRequest() : pods.poolMemoryRequest())))
                        .withLimits(Map.of("memory",
                                new Quantity(dedicated ? pods.memoryLimit() : pods.poolMemoryLimit())))
                        .endResources()
                        // Ready means every member connected with every forward bound; live means their loops run.
                        // Liveness waits for the start: a JVM slowed by its neighbours starting on the same cores is
                        // slow, not dead (20 agents at once on 2 cores: 6 killed by liveness before they listened).
                        .withStartupProbe(new ProbeBuilder(probe("/q/health/started", STARTUP_PROBE_PERIOD_SECONDS))
                                .withFailureThreshold(STARTUP_PROBE_FAILURES).build())
                        .withReadinessProbe(probe("/q/health/ready", 5))
                        .withLivenessProbe(probe("/q/health/live", 20))
                        .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
                        .build())
                .addNewVolume().withName("tmp").withNewEmptyDir().withMedium("Memory").withSizeLimit(new Quantity("16Mi"))
                .endEmptyDir().endVolume()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
    }

    private List<EnvVar> env() {
        List<EnvVar> env = List.of(
                // The image's entrypoint starts the agent's own process (AgentMain), not the operator's.
                new EnvVarBuilder().withName(AgentContract.MODE_ENV).withValue(AgentContract.AGENT_MODE).build(),
                new EnvVarBuilder().withName(AgentContract.POOL_CONFIG_ENV).withValue(agent).build(),
                new EnvVarBuilder().withName(AgentContract.NAMESPACE_ENV).withNewValueFrom()
                        .withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef().endValueFrom().build());
        if (standbys()) {
            env = new ArrayList<>(env);
            env.add(new EnvVarBuilder().withName(AgentContract.LEADER_LEASE_ENV).withValue(leaderLeaseName()).build());
        }
        return env;
    }

    private static Probe probe(String path, int periodSeconds) {
        return new ProbeBuilder()
                .withHttpGet(new HTTPGetActionBuilder().withPath(path).withPort(new IntOrString("http")).build())
                .withPeriodSeconds(periodSeconds)
                .withTimeoutSeconds(PROBE_TIMEOUT_SECONDS)
                .withFailureThreshold(3)
                .build();
    }

    /**
     * Defence in depth around the agent's pod, where the cluster enforces NetworkPolicy: in, only its HTTP port
     * (probes, metrics); out, only DNS, the Kubernetes API (its list, keys and Leases), its members' relays, fallback
     * relays included (or, for
     * a member that goes through a proxy or jump hosts, the proxy or the first hop only) and their forwards' targets. A relay or target given as an IP address is allowed as that address alone; one given
     * as a name, on its port to any address (a NetworkPolicy cannot name hosts). The API server is allowed on 443
     * and 6443 to any address: which address a Service IP lands on after DNAT is the CNI's to know.
     */
    NetworkPolicy networkPolicy() {
        Set<NetworkPolicyEgressRule> egress = new LinkedHashSet<>();
        egress.add(new NetworkPolicyEgressRuleBuilder().withPorts(port("UDP", 53), port("TCP", 53)).build());
        egress.add(new NetworkPolicyEgressRuleBuilder().withPorts(port("TCP", 443), port("TCP", 6443)).build());
        for (ReverseTunnel tunnel : tunnels) {
            for (RelaySpec relay : tunnel.getSpec().relays()) { // the preferred relay and each fallback
                RelaySpec.Address first = relay.firstConnection(); // the relay, or its proxy or first hop
                egress.add(to(first.host(), first.port()));
            }
            for (ForwardSpec forward : tunnel.getSpec().getForwards()) {
                if (forward.getSocks() != null) { // a SOCKS forward: its networks, on its ports (any when none)
                    egress.add(toNetworks(forward.getSocks()));
                } else if (forward.getTarget() != null) {
                    egress.add(to(forward.getTarget().getHost(), forward.getTarget().getPort()));
                }
            }
        }
        return new NetworkPolicyBuilder()
                .withMetadata(ownedByList())
                .withNewSpec()
                .withNewPodSelector().withMatchLabels(Labels.agentSelector(agent)).endPodSelector()
                .withPolicyTypes("Ingress", "Egress")
                .addNewIngress().withPorts(port("TCP", HTTP_PORT)).endIngress()
                .withEgress(List.copyOf(egress))
                .endSpec()
                .build();
    }

    private static NetworkPolicyEgressRule toNetworks(SocksSpec socks) {
        NetworkPolicyEgressRuleBuilder rule = new NetworkPolicyEgressRuleBuilder();
        if (socks.getPorts() != null && !socks.getPorts().isEmpty()) {
            rule.withPorts(socks.getPorts().stream().map(p -> port("TCP", p)).toList());
        }
        rule.withTo(socks.getNetworks().stream()
                .map(n -> new NetworkPolicyPeerBuilder().withNewIpBlock().withCidr(n).endIpBlock().build()).toList());
        return rule.build();
    }

    private static NetworkPolicyEgressRule to(String host, int port) {
        NetworkPolicyEgressRuleBuilder rule = new NetworkPolicyEgressRuleBuilder().withPorts(port("TCP", port));
        String cidr = cidr(host);
        if (cidr != null) {
            rule.withTo(new NetworkPolicyPeerBuilder().withNewIpBlock().withCidr(cidr).endIpBlock().build());
        }
        return rule.build();
    }

    /** The address as a one-address CIDR when the host is an IP literal; null for a name. */
    static String cidr(String host) {
        String bare = HostNames.unbracketed(host);
        if (!IPV4.matcher(bare).matches() && !bare.contains(":")) {
            return null;
        }
        try {
            InetAddress address = InetAddress.getByName(bare); // a literal: no lookup
            return address.getHostAddress() + (address.getAddress().length == 4 ? "/32" : "/128");
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    private static NetworkPolicyPort port(String protocol, int port) {
        return new NetworkPolicyPortBuilder().withProtocol(protocol).withPort(new IntOrString(port)).build();
    }

    /** Labels, namespace, and an owner reference to every member: the last member's deletion removes the list. */
    private ObjectMeta ownedByMembers() {
        List<OwnerReference> owners = tunnels.stream().map(t -> new OwnerReferenceBuilder()
                .withApiVersion(t.getApiVersion()).withKind(t.getKind()).withName(t.getMetadata().getName())
                .withUid(t.getMetadata().getUid()).build()).toList();
        return new ObjectMetaBuilder().withName(agent).withNamespace(namespace).withLabels(Labels.ofAgent(agent))
                .withOwnerReferences(owners).build();
    }

    /** Labels, namespace, and the list as owner: everything of the agent goes with its list. */
    private ObjectMeta ownedByList() {
        if (listUid == null) {
            throw new IllegalStateException("the agent's list is written first: it owns the rest");
        }
        return new ObjectMetaBuilder().withName(agent).withNamespace(namespace).withLabels(Labels.ofAgent(agent))
                .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("v1").withKind("Secret").withName(agent)
                        .withUid(listUid).build()).build();
    }
}
