package dev.jumpgate.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.api.v1alpha1.AuthSpec;
import dev.jumpgate.api.v1alpha1.FallbackRelay;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.SecretKeyRef;
import dev.jumpgate.api.v1alpha1.SocksSpec;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import dev.jumpgate.api.v1alpha1.TunnelCondition;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.operator.status.StatusAggregator;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.CheckReport;
import dev.jumpgate.report.ForwardReport;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.ssh.PublicKeyLine;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Tier 3: the reconciler against the Fabric8 mock API server in CRUD mode (no schema validation, no GC, no pods). */
@Tag("operator")
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReverseTunnelReconcilerTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final String RELAY_KEY = Ed25519KeyPair.generate("relay").publicKey().toString();

    @Inject
    KubernetesClient client;

    @Inject
    Operator operator;

    private String namespace;

    @BeforeEach
    void startOperator() {
        operator.start(); // JumpgateMain does this in operator mode; a no-op once started
        namespace = "test-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private ReverseTunnel tunnel(String name, ForwardSpec... forwards) {
        ReverseTunnelSpec spec = new ReverseTunnelSpec();
        spec.getRelay().setHost("relay.example.com");
        spec.getRelay().setUser("tunnel");
        spec.getRelay().setHostKeys(new java.util.ArrayList<>(List.of(RELAY_KEY)));
        spec.setForwards(new java.util.ArrayList<>(List.of(forwards)));
        ReverseTunnel tunnel = new ReverseTunnel();
        tunnel.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
        tunnel.setSpec(spec);
        return tunnel;
    }

    private static ForwardSpec sshForward() {
        return new ForwardSpec("ssh", new RemoteEndpoint("0.0.0.0", 4040), new TargetEndpoint("10.8.92.10", 22));
    }

    private ReverseTunnel create(ReverseTunnel tunnel) {
        return client.resource(tunnel).create();
    }

    private ReverseTunnel current(String name) {
        return client.resources(ReverseTunnel.class).inNamespace(namespace).withName(name).get();
    }

    private TunnelCondition condition(String name, String type) {
        ReverseTunnel t = current(name);
        return t == null ? null : StatusAggregator.condition(t.getStatus(), type);
    }

    private void awaitReason(String name, String type, String status, String reason) {
        await().atMost(PATIENCE).untilAsserted(() -> assertThat(condition(name, type))
                .isNotNull()
                .satisfies(c -> assertThat(c.getStatus()).isEqualTo(status))
                .satisfies(c -> assertThat(c.getReason()).isEqualTo(reason)));
    }

    private <T extends HasMetadata> T awaitObject(Class<T> type, String name) {
        await().atMost(PATIENCE).until(() -> client.resources(type).inNamespace(namespace).withName(name).get() != null);
        return client.resources(type).inNamespace(namespace).withName(name).get();
    }

    private boolean exists(Class<? extends HasMetadata> type, String name) {
        return client.resources(type).inNamespace(namespace).withName(name).get() != null;
    }

    /** Until the tunnel's namespace has a Warning Event with this reason whose message contains {@code says}. */
    private void awaitWarning(String reason, String says) {
        await().atMost(PATIENCE).until(() -> client.v1().events().inNamespace(namespace).list().getItems().stream()
                .anyMatch(e -> reason.equals(e.getReason()) && "Warning".equals(e.getType())
                        && e.getMessage().contains(says)));
    }

    private void report(String tunnel, AgentReport report) {
        String json = Serialization.asJson(Map.of("metadata", Map.of("annotations",
                Map.of(AgentContract.REPORT_ANNOTATION, Serialization.asJson(report)))));
        client.leases().inNamespace(namespace).withName(Names.agent(tunnel))
                .patch(PatchContext.of(PatchType.JSON_MERGE), json);
    }

    /** A forward's end-to-end check that passed: what the agent reports for a forward a laptop gets through. */
    private static final CheckReport PASSED_CHECK = new CheckReport(true, "2026-11-23T10:00:05Z", 12, "relay.example.com:4040");

    private static AgentReport connectedReport(long generation, ForwardReport... forwards) {
        return new AgentReport(generation, true, Reasons.CONNECTED, "connected to tunnel@relay.example.com:22",
                "2026-11-23T10:00:00Z", 2, "the connection to the relay was lost", null, RELAY_KEY,
                PublicKeyLine.parse(RELAY_KEY).fingerprint(), false, "SSH-2.0-OpenSSH_9.2p1", false, List.of(forwards), Instant.now().toString());
    }

    @Test
    void aTunnelGetsItsKeyAndLeaseAndAPlaceInItsNamespacesHardenedPoolAllOwnedByIt() {
        ReverseTunnel tunnel = create(tunnel("lab-ssh", sshForward()));

        Secret key = awaitObject(Secret.class, "lab-ssh-key");
        ServiceAccount account = awaitObject(ServiceAccount.class, "default-pool");
        Role role = awaitObject(Role.class, "default-pool");
        RoleBinding binding = awaitObject(RoleBinding.class, "default-pool");
        Lease lease = awaitObject(Lease.class, "lab-ssh-agent");
        Deployment agent = awaitObject(Deployment.class, "default-pool");
        NetworkPolicy fence = awaitObject(NetworkPolicy.class, "default-pool");
        Secret members = awaitObject(Secret.class, "default-pool");

        for (HasMetadata owned : List.of(key, lease, members)) {
            assertThat(owned.getMetadata().getOwnerReferences()).as(owned.getKind())
                    .extracting(OwnerReference::getUid).containsExactly(tunnel.getMetadata().getUid());
        }
        // The rest of the pool's objects go with its list, which goes with its last member.
        for (HasMetadata owned : List.of(account, role, binding, agent, fence)) {
            assertThat(owned.getMetadata().getOwnerReferences()).as(owned.getKind())
                    .extracting(OwnerReference::getUid).containsExactly(members.getMetadata().getUid());
        }
        assertThat(key.getType()).isEqualTo("kubernetes.io/ssh-auth");
        String privateKey = new String(Base64.getDecoder().decode(key.getData().get("ssh-privatekey")), StandardCharsets.UTF_8);
        PublicKeyLine publicKey = PublicKeyLine.fromOpenSshPrivateKey(privateKey);
        assertThat(publicKey.type()).isEqualTo("ssh-ed25519");

        // The pool's rights: its own list of members, its one member's key and Lease, each by name; never a tunnel.
        assertThat(role.getRules()).allSatisfy(rule -> assertThat(rule.getResourceNames()).hasSize(1));
        assertThat(role.getRules()).flatExtracting(r -> r.getResources())
                .containsExactlyInAnyOrder("secrets", "secrets", "leases");
        assertThat(role.getRules()).flatExtracting(r -> r.getResourceNames())
                .containsExactlyInAnyOrder("default-pool", "lab-ssh-key", "lab-ssh-agent");
        assertThat(poolJson(members)).contains("\"tunnel\":\"lab-ssh\"").doesNotContain("PRIVATE KEY");
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> assertThat(s.getName()).isEqualTo("default-pool"));

        PodSpec pod = agent.getSpec().getTemplate().getSpec();
        Container container = pod.getContainers().get(0);
        // One pod: never two agents on the same listens, and no election (spec.agent.replicas: 1).
        assertThat(agent.getSpec().getStrategy().getType()).isEqualTo("Recreate");
        assertThat(agent.getSpec().getReplicas()).isEqualTo(1);
        assertThat(container.getEnv()).noneSatisfy(e -> assertThat(e.getName()).isEqualTo("JUMPGATE_LEADER_LEASE"));
        assertThat(pod.getServiceAccountName()).isEqualTo("default-pool");
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/q/health/live");
        // A slow start (many agents starting on few cores) is waited for, not killed by the liveness probe.
        assertThat(container.getStartupProbe().getHttpGet().getPath()).isEqualTo("/q/health/started");
        assertThat(container.getStartupProbe().getPeriodSeconds() * container.getStartupProbe().getFailureThreshold())
                .isGreaterThanOrEqualTo(600);
        assertThat(List.of(container.getStartupProbe(), container.getLivenessProbe(), container.getReadinessProbe()))
                .allSatisfy(probe -> assertThat(probe.getTimeoutSeconds()).isGreaterThanOrEqualTo(5));
        assertThat(container.getEnv()).anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue()).isEqualTo("JUMPGATE_MODE=agent"));
        assertThat(pod.getVolumes()).as("keys are read through the API: a new member needs no new pod")
                .allSatisfy(v -> assertThat(v.getSecret()).isNull());
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");

        // The pod's fence: in, its HTTP port only; out, DNS, the API server, the relay (a name: its port, anywhere)
        // and the target (an address: that address alone, on its port).
        assertThat(fence.getSpec().getPodSelector().getMatchLabels())
                .isEqualTo(agent.getSpec().getSelector().getMatchLabels());
        assertThat(fence.getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
        assertThat(fence.getSpec().getIngress()).singleElement().satisfies(in -> {
            assertThat(in.getFrom()).isNullOrEmpty();
            assertThat(in.getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(8080);
        });
        assertThat(fence.getSpec().getEgress()).extracting(
                e -> e.getPorts().stream().map(p -> p.getProtocol() + "/" + p.getPort().getIntVal()).toList()
                        + " to " + (e.getTo() == null || e.getTo().isEmpty() ? "anywhere"
                        : e.getTo().get(0).getIpBlock().getCidr()))
                .containsExactly("[UDP/53, TCP/53] to anywhere", "[TCP/443, TCP/6443] to anywhere",
                        "[TCP/22] to anywhere", "[TCP/22] to 10.8.92.10/32");

        awaitReason("lab-ssh", StatusAggregator.READY, "False", Reasons.AGENT_STARTING);
        ReverseTunnel seen = current("lab-ssh");
        assertThat(seen.getStatus().getPublicKey()).isEqualTo(publicKey.toKeyString());
        assertThat(seen.getStatus().getAuthorizedKey())
                .isEqualTo("restrict,port-forwarding,command=\"echo 'this key only holds a Jumpgate tunnel' >&2; exit 1\",permitopen=\"relay.example.com:4040\",permitopen=\"localhost:4040\",permitlisten=\"0.0.0.0:4040\" " + publicKey.toKeyString()
                        + " jumpgate:" + namespace + "/lab-ssh");
        assertThat(seen.getStatus().getObservedGeneration()).isEqualTo(1L);

        String secretPart = key.getData().get("ssh-privatekey").substring(40, 80);
        assertThat(Serialization.asJson(seen)).doesNotContain("PRIVATE KEY").doesNotContain(secretPart);
        assertThat(client.v1().events().inNamespace(namespace).list().getItems())
                .as("a tunnel on its way has its status, no Event: its story starts with Ready or why not").isEmpty();

        report("lab-ssh", connectedReport(1, new ForwardReport("ssh", "0.0.0.0", 4040, 4040, "10.8.92.10:22",
                ForwardState.Bound, Reasons.REACHABLE, "reached the target end to end", 0, PASSED_CHECK)));
        await().atMost(PATIENCE).until(() -> client.v1().events().inNamespace(namespace).list().getItems().stream()
                .anyMatch(e -> Reasons.TUNNEL_READY.equals(e.getReason())));
        assertThat(client.v1().events().inNamespace(namespace).list().getItems()).allSatisfy(e ->
                assertThat(e.getMessage()).doesNotContain("PRIVATE KEY").doesNotContain(secretPart));
    }

    @Test
    void aHeartbeatThatChangesNothingLeavesTheStatusAlone() {
        create(tunnel("lab-ssh", sshForward()));
        awaitObject(Lease.class, "lab-ssh-agent");
        ForwardReport bound = new ForwardReport("ssh", "0.0.0.0", 4040, 4040, "10.8.92.10:22", ForwardState.Bound,
                Reasons.REACHABLE, "reached the target end to end", 0, PASSED_CHECK);
        report("lab-ssh", connectedReport(1, bound));
        awaitReason("lab-ssh", StatusAggregator.READY, "True", Reasons.TUNNEL_READY);
        String version = current("lab-ssh").getMetadata().getResourceVersion();
        String leaseVersion = client.leases().inNamespace(namespace).withName("lab-ssh-agent").get()
                .getMetadata().getResourceVersion();

        report("lab-ssh", connectedReport(1, bound)); // the same facts, a newer heartbeat

        await().atMost(PATIENCE).until(() -> !client.leases().inNamespace(namespace).withName("lab-ssh-agent").get()
                .getMetadata().getResourceVersion().equals(leaseVersion));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
                .until(() -> current("lab-ssh").getMetadata().getResourceVersion().equals(version));
    }

    @Test
    void theAgentsReportBecomesTheStatus() {
        create(tunnel("lab-ssh", sshForward()));
        awaitObject(Lease.class, "lab-ssh-agent");

        report("lab-ssh", connectedReport(1, new ForwardReport("ssh", "0.0.0.0", 4040, 4040, "10.8.92.10:22",
                ForwardState.Bound, Reasons.REACHABLE, "reached the target end to end", 0, PASSED_CHECK)));

        awaitReason("lab-ssh", StatusAggregator.READY, "True", Reasons.TUNNEL_READY);
        ReverseTunnel ready = current("lab-ssh");
        assertThat(condition("lab-ssh", StatusAggregator.CONNECTED).getStatus()).isEqualTo("True");
        assertThat(ready.getStatus().getBoundForwards()).isEqualTo("1/1");
        assertThat(ready.getStatus().getForwards()).singleElement().satisfies(f -> {
            assertThat(f.getRemotePort()).isEqualTo(4040);
            assertThat(f.getState()).isEqualTo(ForwardState.Bound);
            assertThat(f.getEndpoint()).isEqualTo("ssh -p 4040 <user>@relay.example.com");
        });
        assertThat(ready.getStatus().getRelay().getFingerprint()).isEqualTo(PublicKeyLine.parse(RELAY_KEY).fingerprint());
        assertThat(ready.getStatus().getRelay().getReconnects()).isEqualTo(2);
        String readySince = condition("lab-ssh", StatusAggregator.READY).getLastTransitionTime();

        report("lab-ssh", connectedReport(1, new ForwardReport("ssh", "0.0.0.0", 4040, 0, "10.8.92.10:22",
                ForwardState.Failed, Reasons.FORWARD_REFUSED, "the relay refused to listen on 0.0.0.0:4040")));

        awaitReason("lab-ssh", StatusAggregator.READY, "False", Reasons.FORWARD_REFUSED);
        assertThat(condition("lab-ssh", StatusAggregator.READY).getMessage()).contains("forward ssh", "refused");
        assertThat(condition("lab-ssh", StatusAggregator.READY).getLastTransitionTime()).isNotEqualTo(readySince);
        assertThat(condition("lab-ssh", StatusAggregator.CONNECTED).getStatus()).isEqualTo("True");
        assertThat(current("lab-ssh").getStatus().getBoundForwards()).isEqualTo("0/1");
        awaitWarning(Reasons.FORWARD_REFUSED, "");
    }

    @Test
    void aTunnelWithAFallbackRelayMayReachItAndItsStatusAndEventsFollowTheRelayInUse() {
        ReverseTunnel tunnel = tunnel("lab-ssh", sshForward());
        tunnel.getSpec().setFallbackRelays(new java.util.ArrayList<>(List.of(
                new FallbackRelay("203.0.113.20", 2222, "tunnel", List.of(RELAY_KEY)))));
        create(tunnel);
        NetworkPolicy fence = awaitObject(NetworkPolicy.class, "default-pool");
        assertThat(fence.getSpec().getEgress()).extracting(
                e -> e.getPorts().stream().map(p -> p.getProtocol() + "/" + p.getPort().getIntVal()).toList()
                        + " to " + (e.getTo() == null || e.getTo().isEmpty() ? "anywhere"
                        : e.getTo().get(0).getIpBlock().getCidr()))
                .contains("[TCP/22] to anywhere", "[TCP/2222] to 203.0.113.20/32");
        ForwardSpec socks = new ForwardSpec("lan", new RemoteEndpoint("127.0.0.1", 1080), null);
        socks.setSocks(new SocksSpec(List.of("10.8.92.0/24"), List.of(22, 443)));
        create(tunnel("lab-lan", socks));
        await().atMost(PATIENCE).until(() -> awaitObject(NetworkPolicy.class, "default-pool").getSpec().getEgress()
                .stream().anyMatch(e -> e.getTo() != null && e.getTo().stream().anyMatch(
                        to -> "10.8.92.0/24".equals(to.getIpBlock().getCidr()))
                        && e.getPorts().stream().map(p -> p.getPort().getIntVal()).toList().equals(List.of(22, 443))));
        ForwardReport bound = new ForwardReport("ssh", "0.0.0.0", 4040, 4040, "10.8.92.10:22", ForwardState.Bound,
                Reasons.REACHABLE, "reached the target end to end", 0, PASSED_CHECK);
        report("lab-ssh", onRelay(0, null, bound));
        await().atMost(PATIENCE).until(() -> current("lab-ssh").getStatus().getRelay() != null
                && "tunnel@relay.example.com:22".equals(current("lab-ssh").getStatus().getRelay().getActive()));

        report("lab-ssh", onRelay(1, "tunnel@relay.example.com:22: connection refused", bound));

        await().atMost(PATIENCE).until(() -> "tunnel@203.0.113.20:2222".equals(
                current("lab-ssh").getStatus().getRelay().getActive()));
        assertThat(current("lab-ssh").getStatus().getSshConfig()).contains("HostName 203.0.113.20\n", "Port 4040\n");
        assertThat(current("lab-ssh").getStatus().getForwards().get(0).getEndpoint())
                .isEqualTo("ssh -p 4040 <user>@203.0.113.20");
        awaitWarning(Reasons.RELAY_FAILOVER, "connection refused");

        report("lab-ssh", onRelay(0, null, bound));
        await().atMost(PATIENCE).until(() -> "tunnel@relay.example.com:22".equals(
                current("lab-ssh").getStatus().getRelay().getActive()));
        await().atMost(PATIENCE).until(() -> client.v1().events().inNamespace(namespace).list().getItems().stream()
                .anyMatch(e -> Reasons.RELAY_FAILBACK.equals(e.getReason()) && "Normal".equals(e.getType())));
    }

    private static AgentReport onRelay(int relay, String failover, ForwardReport... forwards) {
        AgentReport connected = connectedReport(1, forwards);
        return new AgentReport(connected.generation(), true, connected.reason(), connected.message(),
                connected.connectedSince(), connected.reconnects(), null, null, connected.hostKey(),
                connected.fingerprint(), false, connected.relaySshVersion(), false, connected.forwards(),
                connected.heartbeat(), null, relay, failover);
    }

    @Test
    void aRelayThatRunsCommandsForTheKeyIsAFalseConditionAndAWarningWhileTheTunnelWorks() {
        create(tunnel("lab-ssh", sshForward()));
        awaitObject(Lease.class, "lab-ssh-agent");
        ForwardReport bound = new ForwardReport("ssh", "0.0.0.0", 4040, 4040, "10.8.92.10:22", ForwardState.Bound,
                Reasons.REACHABLE, "reached the target end to end", 0, PASSED_CHECK);
        AgentReport restricted = connectedReport(1, bound);
        report("lab-ssh", restricted);
        awaitReason("lab-ssh", StatusAggregator.KEY_RESTRICTED, "True", Reasons.RELAY_KEY_RESTRICTED);

        report("lab-ssh", new AgentReport(1, true, restricted.reason(), restricted.message(), restricted.connectedSince(),
                restricted.reconnects(), restricted.lastError(), null, restricted.hostKey(), restricted.fingerprint(), true,
                restricted.relaySshVersion(), false, restricted.forwards(), Instant.now().toString()));

        awaitReason("lab-ssh", StatusAggregator.KEY_RESTRICTED, "False", Reasons.RELAY_KEY_UNRESTRICTED);
        assertThat(condition("lab-ssh", StatusAggregator.KEY_RESTRICTED).getMessage())
                .contains("shell on the relay", "status.authorizedKey");
        assertThat(condition("lab-ssh", StatusAggregator.READY).getStatus()).isEqualTo("True");
        awaitWarning(Reasons.RELAY_KEY_UNRESTRICTED, "");
    }

    @Test
    void whatATakenAgentPodWritesIntoItsLeaseReachesTheStatusBoundedAndPlain() {
        create(tunnel("lab-ssh", sshForward()));
        awaitObject(Lease.class, "lab-ssh-agent");
        String flood = "\u001b[2J\nReady=True\u202e".repeat(10_000);

        report("lab-ssh", new AgentReport(1, false, "Tunnel Ready\nreally", flood, null, 0, flood, null, null, null, null,
                flood, null, List.of(), Instant.now().toString()));

        awaitReason("lab-ssh", StatusAggregator.CONNECTED, "False", "Unknown");
        TunnelCondition connected = condition("lab-ssh", StatusAggregator.CONNECTED);
        assertThat(connected.getMessage().length()).isLessThanOrEqualTo(1000);
        assertThat(connected.getMessage()).doesNotContain("\n", "\u001b", "\u202e");
        assertThat(current("lab-ssh").getStatus().getRelay().getLastError().length()).isLessThanOrEqualTo(1000);
    }

    @Test
    void connectionsRefusedAtAForwardsCapAreInTheStatusAndAWarning() {
        create(tunnel("lab-ssh", sshForward()));
        awaitObject(Lease.class, "lab-ssh-agent");

        report("lab-ssh", connectedReport(1, new ForwardReport("ssh", "0.0.0.0", 4040, 4040, "10.8.92.10:22",
                ForwardState.Bound, Reasons.REACHABLE, "reached the target end to end", 7, PASSED_CHECK)));

        await().atMost(PATIENCE).until(() -> current("lab-ssh").getStatus() != null
                && current("lab-ssh").getStatus().getForwards().get(0).getRefusedConnections() != null);
        assertThat(current("lab-ssh").getStatus().getForwards().get(0).getRefusedConnections()).isEqualTo(7L);
        awaitWarning(Reasons.CONNECTIONS_REFUSED, "refused 7 connections past its cap of "
                + ForwardSpec.DEFAULT_MAX_CONNECTIONS);
        assertThat(condition("lab-ssh", StatusAggregator.READY).getStatus()).isEqualTo("True");
    }

    @Test
    void aHostKeyMismatchTheAgentReportsIsTheReasonNotReady() {
        create(tunnel("lab-ssh", sshForward()));
        awaitObject(Lease.class, "lab-ssh-agent");

        report("lab-ssh", new AgentReport(1, false, Reasons.HOST_KEY_MISMATCH, "the relay presented ssh-ed25519 SHA256:x",
                null, 0, "the relay presented ssh-ed25519 SHA256:x", null, null, "SHA256:x", null, null, null,
                List.of(new ForwardReport("ssh", "0.0.0.0", 4040, 0, "10.8.92.10:22", ForwardState.Pending,
                        Reasons.FORWARD_PENDING, "waiting for the session")), Instant.now().toString()));

        awaitReason("lab-ssh", StatusAggregator.CONNECTED, "False", Reasons.HOST_KEY_MISMATCH);
        awaitReason("lab-ssh", StatusAggregator.READY, "False", Reasons.HOST_KEY_MISMATCH);
        assertThat(current("lab-ssh").getStatus().getRelay().getLastError()).contains("SHA256:x");
    }

    @Test
    void aSilentAgentIsReportedUnavailable() {
        create(tunnel("lab-ssh", sshForward()));
        awaitObject(Lease.class, "lab-ssh-agent");

        report("lab-ssh", connectedReport(1).withHeartbeat(Instant.now().minus(Duration.ofMinutes(5)).toString()));

        awaitReason("lab-ssh", StatusAggregator.CONNECTED, "Unknown", Reasons.AGENT_UNAVAILABLE);
        awaitReason("lab-ssh", StatusAggregator.READY, "False", Reasons.AGENT_UNAVAILABLE);
    }

    @Test
    void anInvalidSpecIsAConditionAndStartsNoAgent() {
        ReverseTunnel tunnel = tunnel("no-pins", sshForward());
        tunnel.getSpec().getRelay().getHostKeys().clear(); // neither pinned nor AcceptNew; a real API server refuses it
        create(tunnel);

        awaitReason("no-pins", StatusAggregator.READY, "False", Reasons.SPEC_INVALID);
        assertThat(condition("no-pins", StatusAggregator.READY).getMessage()).contains("spec.relay.hostKeys");
        assertThat(exists(Deployment.class, "default-pool")).isFalse();
        await().atMost(PATIENCE).until(() -> client.v1().events().inNamespace(namespace).list().getItems().stream()
                .anyMatch(e -> Reasons.SPEC_INVALID.equals(e.getReason())));
    }

    @Test
    void aMissingKeySecretIsAConditionUntilTheSecretAppears() {
        ReverseTunnel tunnel = tunnel("own-key", sshForward());
        AuthSpec auth = new AuthSpec();
        SecretKeyRef ref = new SecretKeyRef();
        ref.setName("lab-key");
        auth.setSecretRef(ref);
        tunnel.getSpec().setAuth(auth);
        create(tunnel);

        awaitReason("own-key", StatusAggregator.READY, "False", Reasons.SECRET_MISSING);
        assertThat(condition("own-key", StatusAggregator.READY).getMessage()).contains("lab-key");
        assertThat(exists(Deployment.class, "default-pool")).isFalse();
        assertThat(exists(Secret.class, "own-key-key")).as("no key is generated when the spec names one").isFalse();

        Ed25519KeyPair userKey = Ed25519KeyPair.generate("user");
        client.resource(new SecretBuilder().withNewMetadata().withName("lab-key").withNamespace(namespace).endMetadata()
                .withStringData(Map.of("ssh-privatekey", userKey.privateKeyPem())).build()).create();

        awaitObject(Deployment.class, "default-pool");
        Secret members = awaitObject(Secret.class, "default-pool");
        // What makes the agent read the key again names the Secret's version, nothing derived from the key.
        Secret stored = client.secrets().inNamespace(namespace).withName("lab-key").get();
        String version = stored.getMetadata().getUid() + ":" + stored.getMetadata().getResourceVersion();
        assertThat(poolJson(members)).contains("\"keySecret\":\"lab-key\"")
                .contains("\"keyVersion\":\"" + version + "\"");
        await().atMost(PATIENCE).until(() -> version.equals(current("own-key").getStatus().getAgent().getKeyVersion()));
        awaitReason("own-key", StatusAggregator.READY, "False", Reasons.AGENT_STARTING);
        assertThat(current("own-key").getStatus().getPublicKey()).isEqualTo(userKey.publicKey().toKeyString());
    }

    @Test
    void theGeneratedKeyIsNeverRegenerated() {
        create(tunnel("lab-ssh", sshForward()));
        Secret first = awaitObject(Secret.class, "lab-ssh-key");
        awaitReason("lab-ssh", StatusAggregator.READY, "False", Reasons.AGENT_STARTING);

        ReverseTunnel edited = edit("lab-ssh", t -> t.getSpec().getForwards().add(new ForwardSpec("web",
                new RemoteEndpoint("127.0.0.1", 8080), new TargetEndpoint("10.8.92.10", 80))));
        assertThat(edited.getMetadata().getGeneration()).isEqualTo(2L);
        awaitObservedGeneration("lab-ssh", 2L);
        assertThat(current("lab-ssh").getStatus().getAuthorizedKey()).contains("permitlisten=\"127.0.0.1:8080\"");

        // A key of the user's own for a while, then back to the generated one: the relay still knows that one.
        client.resource(new SecretBuilder().withNewMetadata().withName("own").withNamespace(namespace).endMetadata()
                .withStringData(Map.of("ssh-privatekey", Ed25519KeyPair.generate("own").privateKeyPem())).build()).create();
        edit("lab-ssh", t -> {
            AuthSpec auth = new AuthSpec();
            auth.setSecretRef(new SecretKeyRef());
            auth.getSecretRef().setName("own");
            t.getSpec().setAuth(auth);
        });
        awaitObservedGeneration("lab-ssh", 3L);
        edit("lab-ssh", t -> t.getSpec().setAuth(null));
        awaitObservedGeneration("lab-ssh", 4L);

        assertThat(client.secrets().inNamespace(namespace).withName("lab-ssh-key").get().getData())
                .isEqualTo(first.getData());
    }

    private ReverseTunnel edit(String name, java.util.function.Consumer<ReverseTunnel> change) {
        return client.resources(ReverseTunnel.class).inNamespace(namespace).withName(name).edit(t -> {
            change.accept(t);
            return t;
        });
    }

    private void awaitObservedGeneration(String name, long generation) {
        await().atMost(PATIENCE).until(() -> current(name).getStatus() != null
                && Long.valueOf(generation).equals(current(name).getStatus().getObservedGeneration()));
    }

    @TestHTTPResource("/q/health/ready")
    URI ready;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    @Test
    void theOperatorIsReadyAndCountsItsReconciliations() throws Exception {
        create(tunnel("lab-ssh", sshForward()));
        awaitReason("lab-ssh", StatusAggregator.READY, "False", Reasons.AGENT_STARTING);

        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        String scraped = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(scraped).containsPattern("reconciliations_started_total\\{controller_name=\"reversetunnel\"} [1-9]");
    }

    @Test
    void deletingTheTunnelLeavesNothingOfItsOwnBehindForTheGarbageCollector() {
        ReverseTunnel tunnel = create(tunnel("lab-ssh", sshForward()));
        awaitObject(Deployment.class, "default-pool");

        client.resource(tunnel).delete();

        assertThat(current("lab-ssh")).as("no finalizer holds the deletion back").isNull();
        // The mock server has no garbage collector: what remains must all be owned by the deleted tunnel, with nothing
        // (no finalizer, no foreign owner) holding it back. The cluster tier sees them go.
        // Its pool, which served it alone, is removed once the operator sees it gone.
        await().atMost(PATIENCE).until(() -> !exists(Deployment.class, "default-pool")
                && !exists(Secret.class, "default-pool"));
        for (Class<? extends HasMetadata> type : List.of(Secret.class, ServiceAccount.class, Role.class,
                RoleBinding.class, Lease.class, Deployment.class)) {
            client.resources(type).inNamespace(namespace).list().getItems().forEach(o -> {
                assertThat(o.getMetadata().getOwnerReferences()).extracting(OwnerReference::getUid)
                        .containsExactly(tunnel.getMetadata().getUid());
                assertThat(o.getMetadata().getFinalizers()).isNullOrEmpty();
            });
        }
    }

    @Test
    void aTunnelMadeWhileTheOperatorHadAFinalizerLosesItAndOnlyIt() {
        ReverseTunnel old = tunnel("lab-ssh", sshForward());
        old.getMetadata().setFinalizers(new java.util.ArrayList<>(List.of("example.com/someone-elses",
                ReverseTunnelReconciler.LEGACY_FINALIZER)));
        create(old);

        await().atMost(PATIENCE).until(() -> current("lab-ssh").getMetadata().getFinalizers()
                .equals(List.of("example.com/someone-elses")));
    }

    private static String poolJson(Secret list) {
        return new String(Base64.getDecoder().decode(list.getData().get("pool.json")), StandardCharsets.UTF_8);
    }
}
