package dev.jumpgate.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.AgentRuntime;
import dev.jumpgate.agent.PoolAgent;
import dev.jumpgate.agent.KubernetesApi;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import dev.jumpgate.operator.status.StatusAggregator;
import dev.jumpgate.ssh.PublicKeyLine;
import dev.jumpgate.testing.ApiAccess;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.OpenSshRelay;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The whole loop short of a kubelet: the operator against the mock API server makes the key and the Lease; the agent
 * runs as its pool's pod would (PoolAgent: the spec from the pool's list of members, the key from the Secret through the
 * API) against a real sshd; the
 * operator folds the agent's Lease report into Ready, and the relay's host key, trusted on first use, gets pinned.
 */
@Tag("operator")
@Tag("relay")
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class AgentInItsPodReportsThroughItsLeaseTest {

    @Inject
    KubernetesClient client;

    @Inject
    Operator operator;

    /** The agent's runtime as its own process makes it (AgentMain), here beside the operator in the test's JVM. */
    private final AgentRuntime runtime = new AgentRuntime(new SimpleMeterRegistry());

    @Test
    void theAgentsLeaseReportMakesTheTunnelReadyAndPinsTheHostKey() throws Exception {
        operator.start();
        String namespace = "pod-agent";
        try (OpenSshRelay relay = OpenSshRelay.start(); EchoServer target = new EchoServer()) {
            int port = OpenSshRelay.freePort();
            ReverseTunnelSpec spec = new ReverseTunnelSpec();
            spec.getRelay().setHost("127.0.0.1");
            spec.getRelay().setPort(relay.port());
            spec.getRelay().setUser(relay.user());
            spec.getRelay().setHostKeyPolicy(HostKeyPolicy.AcceptNew);
            spec.setForwards(new ArrayList<>(List.of(new ForwardSpec("ssh", new RemoteEndpoint("127.0.0.1", port),
                    new TargetEndpoint("127.0.0.1", target.port())))));
            ReverseTunnel tunnel = new ReverseTunnel();
            tunnel.setMetadata(new ObjectMetaBuilder().withName("lab").withNamespace(namespace).build());
            tunnel.setSpec(spec);
            client.resource(tunnel).create();

            // What the relay owner does with the status: append the authorizedKey line.
            await().atMost(Duration.ofSeconds(30)).until(() -> status(namespace).getStatus() != null
                    && status(namespace).getStatus().getAuthorizedKey() != null);
            relay.authorize(status(namespace).getStatus().getAuthorizedKey());

            // The agent runs as the pool's pod would: it follows the pool's list of members and reads their keys.
            await().atMost(Duration.ofSeconds(30)).until(() -> client.secrets().inNamespace(namespace)
                    .withName("default-pool").get() != null);
            try (PoolAgent agent = PoolAgent.start(runtime, new KubernetesApi(ApiAccess.of(client.getConfiguration())),
                    new PoolAgent.Settings(namespace, "default-pool", "default-pool-pod"))) {

                await().atMost(Duration.ofSeconds(30)).until(() -> isReady(namespace));

                ReverseTunnel ready = status(namespace);
                assertThat(ready.getStatus().getForwards()).singleElement()
                        .satisfies(f -> assertThat(f.getState()).isEqualTo(ForwardState.Bound))
                        .satisfies(f -> assertThat(f.getRemotePort()).isEqualTo(port));
                assertThat(PublicKeyLine.parse(ready.getStatus().getRelay().getAcceptedHostKey())
                        .sameKey(PublicKeyLine.parse(relay.hostKey()))).isTrue();
                assertThat(StatusAggregator.readyCondition(ready.getStatus()).getReason()).isEqualTo(Reasons.TUNNEL_READY);
                assertThat(EchoClient.echoes(port, 10_000)).isTrue();
            }
        }
    }

    private boolean isReady(String namespace) {
        var ready = StatusAggregator.readyCondition(status(namespace).getStatus());
        return ready != null && "True".equals(ready.getStatus());
    }

    private ReverseTunnel status(String namespace) {
        return client.resources(ReverseTunnel.class).inNamespace(namespace).withName("lab").get();
    }
}
