package dev.jumpgate.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.testing.HostCommand;
import dev.jumpgate.testing.InvalidTunnels;
import dev.jumpgate.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The CRD's schema and CEL rules as a real kube-apiserver enforces them (the mock server enforces none). */
@Tag("apiserver")
class ReverseTunnelSchemaApiServerTest {

    private static RealApiServer api;
    private static KubernetesClient client;
    private static int counter;

    @BeforeAll
    static void start() {
        api = RealApiServer.startWithCrd();
        client = api.client();
    }

    @AfterAll
    static void stop() {
        client.close();
        api.close();
    }

    /** A tunnel from YAML, as a user writes it, with the relay and forwards each test gives. */
    private static ReverseTunnel create(String relay, String forwards, String extra) {
        String yaml = """
                apiVersion: jumpgate.dev/v1alpha1
                kind: ReverseTunnel
                metadata: {name: t%d, namespace: default}
                spec:
                  relay: %s
                  forwards: %s
                %s""".formatted(++counter, relay, forwards, extra);
        // Sent as written, like kubectl apply: the Java types would add their own defaults.
        GenericKubernetesResource created = client.resource(Serialization.unmarshal(yaml, GenericKubernetesResource.class))
                .create();
        return Serialization.unmarshal(Serialization.asJson(created), ReverseTunnel.class);
    }

    private static final String RELAY = "{host: relay.example.com, user: tunnel, hostKeys: "
            + "[\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN\"]}";
    private static final String FORWARD = "[{name: ssh, remote: {port: 4040}, target: {host: 10.8.92.10, port: 22}}]";

    private static String rejection(String relay, String forwards, String extra) {
        try {
            create(relay, forwards, extra);
        } catch (KubernetesClientException e) {
            assertThat(e.getCode()).isEqualTo(422);
            return e.getMessage();
        }
        throw new AssertionError("the API server accepted it");
    }

    @Test
    void theExamplesAreAcceptedAndDefaultsAreFilledIn() throws IOException {
        ReverseTunnel example = Serialization.unmarshal(Files.readString(Path.of("examples/lab-ssh.yaml")), ReverseTunnel.class);
        example.getMetadata().setNamespace("default");
        client.resource(example).create();
        ReverseTunnel corp = Serialization.unmarshal(Files.readString(
                Path.of("examples/lab-ssh-through-proxy-and-jump-host.yaml")), ReverseTunnel.class);
        corp.getMetadata().setNamespace("default");
        assertThat(client.resource(corp).create().getSpec().getRelay().getVia().get(0).getPort())
                .as("a jump host's port defaults to 22").isEqualTo(22);

        ReverseTunnel failover = Serialization.unmarshal(Files.readString(
                Path.of("examples/lab-ssh-with-fallback-relay.yaml")), ReverseTunnel.class);
        failover.getMetadata().setNamespace("default");
        assertThat(client.resource(failover).create().getSpec().getFallbackRelays().get(0).getPort())
                .as("a fallback relay's port defaults to 22").isEqualTo(22);

        ReverseTunnel socks = Serialization.unmarshal(Files.readString(
                Path.of("examples/lab-network-over-reverse-socks.yaml")), ReverseTunnel.class);
        socks.getMetadata().setNamespace("default");
        assertThat(client.resource(socks).create().getSpec().getForwards().get(0).getSocks().getNetworks())
                .containsExactly("10.8.92.0/24");

        ReverseTunnel standby = Serialization.unmarshal(Files.readString(
                Path.of("examples/lab-ssh-with-standby-agent.yaml")), ReverseTunnel.class);
        standby.getMetadata().setNamespace("default");
        assertThat(client.resource(standby).create().getSpec().getAgent().getReplicas()).isEqualTo(2);

        ReverseTunnel certified = Serialization.unmarshal(Files.readString(
                Path.of("examples/lab-ssh-with-certificates.yaml")), ReverseTunnel.class);
        certified.getMetadata().setNamespace("default");
        assertThat(client.resource(certified).create().getSpec().getRelay().getHostCertificateAuthorities()).hasSize(1);

        ReverseTunnel minimal = create(RELAY, FORWARD, "");

        assertThat(minimal.getSpec().getRelay().getPort()).isEqualTo(22);
        assertThat(minimal.getSpec().getRelay().getHostKeyPolicy()).isEqualTo(HostKeyPolicy.Pinned);
        assertThat(minimal.getSpec().getForwards().get(0).getRemote().getBindAddress()).isEqualTo("127.0.0.1");
        assertThat(minimal.getSpec().getKeepalive().getIntervalSeconds()).isEqualTo(10);
        assertThat(minimal.getSpec().getKeepalive().getCountMax()).isEqualTo(3);
        assertThat(minimal.getSpec().getReconnect().getMaxBackoffSeconds()).isEqualTo(30);
        assertThat(minimal.getSpec().getReconnect().getFailbackSeconds()).isEqualTo(30);
    }

    @Test
    void hostKeysAreRequiredUnlessTrustOnFirstUseIsAskedFor() {
        assertThat(rejection("{host: relay.example.com, user: tunnel}", FORWARD, ""))
                .contains("hostKeys must pin at least one relay host key unless hostKeyPolicy is AcceptNew");

        ReverseTunnel certified = create("{host: relay.example.com, user: tunnel, hostCertificateAuthorities: [\""
                + InvalidTunnels.KEY + "\"]}", FORWARD, "");
        assertThat(certified.getSpec().getRelay().trustsFirstUse()).as("a host CA, no key pinned: no trust on first use")
                .isFalse();

        ReverseTunnel tofu = create("{host: relay.example.com, user: tunnel, hostKeyPolicy: AcceptNew}", FORWARD, "");
        assertThat(tofu.getSpec().getRelay().getHostKeys()).isNullOrEmpty();
    }

    @Test
    void forwardsAreCheckedOneByOneAndAsAList() {
        assertThat(rejection(RELAY, "[]", "")).contains("spec.forwards").contains("should have at least 1 items");
        assertThat(rejection(RELAY, "[{name: ssh, remote: {port: 1}, target: {host: a, port: 22}},"
                + " {name: ssh, remote: {port: 2}, target: {host: b, port: 22}}]", "")).contains("forward names must be unique");
        assertThat(rejection(RELAY, "[{name: a, remote: {port: 4040}, target: {host: a, port: 22}},"
                + " {name: b, remote: {port: 4040}, target: {host: b, port: 22}}]", ""))
                .contains("two forwards cannot listen on the same remote address and port");
        assertThat(rejection(RELAY, "[{name: SSH, remote: {port: 4040}, target: {host: a, port: 22}}]", ""))
                .contains("spec.forwards[0].name");
        assertThat(rejection(RELAY, "[{name: ssh, remote: {port: 70000}, target: {host: a, port: 0}}]", ""))
                .contains("spec.forwards[0].remote.port").contains("spec.forwards[0].target.port");
        assertThat(rejection(RELAY, "[{name: ssh, remote: {port: 4040}}]", ""))
                .contains("spec.forwards[0]: Invalid value: \"object\": a forward has either a target or socks");

        ReverseTunnel anyPort = create(RELAY, "[{name: a, remote: {port: 0}, target: {host: a, port: 22}},"
                + " {name: b, remote: {port: 0}, target: {host: b, port: 22}}]", "");
        assertThat(anyPort.getSpec().getForwards()).hasSize(2);
    }

    @Test
    void relayAndTimingMistakesAreRefused() {
        assertThat(rejection("{host: relay.example.com, user: tunnel, hostKeys: [\"not a key\"]}", FORWARD, ""))
                .contains("spec.relay.hostKeys[0]");
        assertThat(rejection("{host: relay.example.com, user: tunnel, port: 0, hostKeyPolicy: AcceptNew}", FORWARD, ""))
                .contains("spec.relay.port");
        assertThat(rejection(RELAY, FORWARD, "  reconnect: {minBackoffSeconds: 60, maxBackoffSeconds: 30}\n"))
                .contains("minBackoffSeconds must not exceed maxBackoffSeconds");
        assertThat(rejection(RELAY, FORWARD, "  keepalive: {intervalSeconds: 0}\n")).contains("spec.keepalive.intervalSeconds");
    }

    @Test
    void kubectlShowsReadinessRelayForwardsAndReason() throws Exception {
        create(RELAY, FORWARD, "");
        String output = HostCommand.kubectl().run(Duration.ofSeconds(30),
                "--kubeconfig", api.kubeconfigFile().toString(), "get", "rtun", "-n", "default").orThrow();

        assertThat(output.lines().findFirst().orElseThrow().split("\\s+"))
                .containsExactly("NAME", "REACHABLE", "READY", "RELAY", "FORWARDS", "REASON", "AGE");
        assertThat(output).contains("relay.example.com");
    }

    @Test
    void statusIsASubresourceTheSpecCannotWrite() {
        ReverseTunnel tunnel = create(RELAY, FORWARD, "");
        tunnel.setStatus(new dev.jumpgate.api.v1alpha1.ReverseTunnelStatus());
        tunnel.getStatus().setBoundForwards("9/9");
        client.resource(tunnel).update();
        assertThat(client.resource(tunnel).get().getStatus()).isNull();
    }
}
