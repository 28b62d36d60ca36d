package dev.jumpgate.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.TunnelCondition;
import dev.jumpgate.operator.status.StatusAggregator;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.testing.HostCommand;
import dev.jumpgate.testing.RealApiServerResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.InputStream;
import java.net.URL;
import java.net.HttpURLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 3: a corpus of invalid and hostile ReverseTunnels, written as a user (or an attacker with create rights in a
 * namespace) would write them, applied to a real kube-apiserver with the operator running. Each is rejected by the
 * schema with the field named, or accepted and shown as a condition with a reason and a message; the operator stays
 * up and a well-formed tunnel beside them is not disturbed.
 */
@Tag("apiserver")
@QuarkusTest
@TestProfile(RealApiServerResource.Profile.class)
class HostileTunnelsOnRealApiServerTest {

    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final String NS = "hostile";
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN";
    private static final String RELAY = "{host: relay.example.com, user: tunnel, hostKeys: [\"" + KEY + "\"]}";
    private static final String FORWARD = "[{name: ssh, remote: {port: 4040}, target: {host: 10.8.92.10, port: 22}}]";

    @Inject
    KubernetesClient client;

    @Inject
    Operator operator;

    @TestHTTPResource("/q/health/ready")
    URL ready;

    /** Rejected by the API server: 422, and the message names what is wrong. */
    private record Rejected(String name, String relay, String forwards, String extra, String says) {
    }

    /** Accepted by the schema: the operator's status says what is wrong. */
    private record Shown(String name, String relay, String forwards, String extra, String reason) {
    }

    private static String many(int count, java.util.function.IntFunction<String> item) {
        return IntStream.range(0, count).mapToObj(item).collect(Collectors.joining(", ", "[", "]"));
    }

    private static String forwardTo(String remote, String target) {
        return "[{name: ssh, remote: " + remote + ", target: " + target + "}]";
    }

    private static String relayWith(String fields) {
        return "{host: relay.example.com, user: tunnel, hostKeys: [\"" + KEY + "\"], " + fields + "}";
    }

    private static List<Rejected> rejected() {
        String longName = "a".repeat(64);
        return List.of(
                new Rejected("no-spec", null, null, null, "spec: Required value"),
                new Rejected("no-relay", "", FORWARD, "", "spec.relay: Required value"),
                new Rejected("no-host", "{user: tunnel, hostKeys: [\"" + KEY + "\"]}", FORWARD, "", "spec.relay.host"),
                new Rejected("no-user", "{host: relay.example.com, hostKeys: [\"" + KEY + "\"]}", FORWARD, "", "spec.relay.user"),
                new Rejected("no-forwards", RELAY, "", "", "spec.forwards"),
                new Rejected("empty-forwards", RELAY, "[]", "", "spec.forwards"),
                new Rejected("forwards-object", RELAY, "{name: ssh}", "", "spec.forwards"),
                new Rejected("sixty-five-forwards", RELAY, many(65, i -> "{name: f" + i + ", remote: {port: " + (4000 + i)
                        + "}, target: {host: a, port: 22}}"), "", "spec.forwards"),
                new Rejected("port-string", relayWith("port: \"22\""), FORWARD, "", "spec.relay.port"),
                new Rejected("port-zero", relayWith("port: 0"), FORWARD, "", "spec.relay.port"),
                new Rejected("port-too-big", relayWith("port: 65536"), FORWARD, "", "spec.relay.port"),
                new Rejected("port-negative", relayWith("port: -1"), FORWARD, "", "spec.relay.port"),
                new Rejected("port-fraction", relayWith("port: 22.5"), FORWARD, "", "spec.relay.port"),
                new Rejected("remote-port-too-big", RELAY, forwardTo("{port: 70000}", "{host: a, port: 22}"), "",
                        "spec.forwards[0].remote.port"),
                new Rejected("remote-port-negative", RELAY, forwardTo("{port: -5}", "{host: a, port: 22}"), "",
                        "spec.forwards[0].remote.port"),
                new Rejected("target-port-zero", RELAY, forwardTo("{port: 4040}", "{host: a, port: 0}"), "",
                        "spec.forwards[0].target.port"),
                new Rejected("target-port-name", RELAY, forwardTo("{port: 4040}", "{host: a, port: ssh}"), "",
                        "spec.forwards[0].target.port"),
                new Rejected("forward-name-upper", RELAY, "[{name: SSH, remote: {port: 4040}, target: {host: a, port: 22}}]",
                        "", "spec.forwards[0].name"),
                new Rejected("forward-name-unicode", RELAY, "[{name: \"ssh\u00e9\", remote: {port: 4040}, target: {host: a, port: 22}}]",
                        "", "spec.forwards[0].name"),
                new Rejected("forward-name-long", RELAY, "[{name: " + longName + ", remote: {port: 4040}, target: {host: a, port: 22}}]",
                        "", "spec.forwards[0].name"),
                new Rejected("forward-name-empty", RELAY, "[{name: \"\", remote: {port: 4040}, target: {host: a, port: 22}}]",
                        "", "spec.forwards[0].name"),
                new Rejected("forward-names-twice", RELAY, "[{name: ssh, remote: {port: 1}, target: {host: a, port: 22}},"
                        + " {name: ssh, remote: {port: 2}, target: {host: b, port: 22}}]", "", "forward names must be unique"),
                new Rejected("listen-twice", RELAY, "[{name: a, remote: {port: 4040}, target: {host: a, port: 22}},"
                        + " {name: b, remote: {port: 4040}, target: {host: b, port: 22}}]", "",
                        "two forwards cannot listen on the same remote address and port"),
                new Rejected("no-connections", RELAY, "[{name: ssh, maxConnections: 0, remote: {port: 4040}, "
                        + "target: {host: a, port: 22}}]", "", "spec.forwards[0].maxConnections"),
                new Rejected("unbounded-connections", RELAY, "[{name: ssh, maxConnections: 1000000, remote: {port: 4040}, "
                        + "target: {host: a, port: 22}}]", "", "spec.forwards[0].maxConnections"),
                new Rejected("no-target", RELAY, "[{name: ssh, remote: {port: 4040}}]", "", "spec.forwards[0].target"),
                new Rejected("no-remote", RELAY, "[{name: ssh, target: {host: a, port: 22}}]", "", "spec.forwards[0].remote"),
                new Rejected("target-host-space", RELAY, forwardTo("{port: 4040}", "{host: \"a b\", port: 22}"), "",
                        "spec.forwards[0].target.host"),
                new Rejected("target-host-unicode", RELAY, forwardTo("{port: 4040}", "{host: \"\u4f8b\u3048.jp\", port: 22}"), "",
                        "spec.forwards[0].target.host"),
                new Rejected("target-host-long", RELAY, forwardTo("{port: 4040}", "{host: " + "a".repeat(254) + ", port: 22}"),
                        "", "spec.forwards[0].target.host"),
                new Rejected("target-host-newline", RELAY, forwardTo("{port: 4040}", "{host: \"a\\nProxyCommand x\", port: 22}"),
                        "", "spec.forwards[0].target.host"),
                new Rejected("bind-address-injection", RELAY, forwardTo("{bindAddress: \"0.0.0.0; rm\", port: 4040}",
                        "{host: a, port: 22}"), "", "spec.forwards[0].remote.bindAddress"),
                new Rejected("relay-host-with-user", "{host: \"root@relay\", user: tunnel, hostKeys: [\"" + KEY + "\"]}",
                        FORWARD, "", "spec.relay.host"),
                new Rejected("relay-host-newline", "{host: \"relay\\n\", user: tunnel, hostKeys: [\"" + KEY + "\"]}",
                        FORWARD, "", "spec.relay.host"),
                new Rejected("relay-host-empty", "{host: \"\", user: tunnel, hostKeys: [\"" + KEY + "\"]}", FORWARD, "",
                        "spec.relay.host"),
                new Rejected("user-shell", "{host: relay, user: \"tunnel; rm -rf /\", hostKeys: [\"" + KEY + "\"]}", FORWARD,
                        "", "spec.relay.user"),
                new Rejected("user-option", "{host: relay, user: \"-oProxyCommand=sh\", hostKeys: [\"" + KEY + "\"]}",
                        FORWARD, "", "spec.relay.user"),
                new Rejected("user-long", "{host: relay, user: " + "u".repeat(65) + ", hostKeys: [\"" + KEY + "\"]}", FORWARD,
                        "", "spec.relay.user"),
                new Rejected("user-bidi", "{host: relay, user: \"tunnel\u202e\", hostKeys: [\"" + KEY + "\"]}", FORWARD, "",
                        "spec.relay.user"),
                new Rejected("host-key-dss", "{host: relay, user: tunnel, hostKeys: [\"ssh-dss AAAAB3NzaC1kc3M=\"]}", FORWARD,
                        "", "spec.relay.hostKeys[0]"),
                new Rejected("host-key-words", "{host: relay, user: tunnel, hostKeys: [\"not a key\"]}", FORWARD, "",
                        "spec.relay.hostKeys[0]"),
                new Rejected("host-keys-seventeen", "{host: relay, user: tunnel, hostKeys: " + many(17, i -> "\"" + KEY + "\"")
                        + "}", FORWARD, "", "spec.relay.hostKeys"),
                new Rejected("host-key-huge", "{host: relay, user: tunnel, hostKeys: [\"ssh-ed25519 " + "A".repeat(5000) + "\"]}",
                        FORWARD, "", "spec.relay.hostKeys[0]"),
                new Rejected("host-keys-string", "{host: relay, user: tunnel, hostKeys: \"" + KEY + "\"}", FORWARD, "",
                        "spec.relay.hostKeys"),
                new Rejected("host-key-policy-unknown", "{host: relay, user: tunnel, hostKeyPolicy: TrustEverything}", FORWARD,
                        "", "spec.relay.hostKeyPolicy"),
                new Rejected("nothing-pinned", "{host: relay, user: tunnel}", FORWARD, "",
                        "hostKeys must pin at least one relay host key"),
                new Rejected("keepalive-zero", RELAY, FORWARD, "  keepalive: {intervalSeconds: 0}\n", "spec.keepalive.intervalSeconds"),
                new Rejected("keepalive-count-huge", RELAY, FORWARD, "  keepalive: {countMax: 1000}\n", "spec.keepalive.countMax"),
                new Rejected("backoff-inverted", RELAY, FORWARD, "  reconnect: {minBackoffSeconds: 60, maxBackoffSeconds: 30}\n",
                        "minBackoffSeconds must not exceed maxBackoffSeconds"),
                new Rejected("backoff-huge", RELAY, FORWARD, "  reconnect: {maxBackoffSeconds: 100000}\n",
                        "spec.reconnect.maxBackoffSeconds"),
                new Rejected(longName, RELAY, FORWARD, "", "at most 63 characters"),
                new Rejected("secret-path", RELAY, FORWARD, "  auth: {secretRef: {name: \"../kube-system/x\"}}\n",
                        "spec.auth.secretRef.name"),
                new Rejected("secret-no-name", RELAY, FORWARD, "  auth: {secretRef: {key: ssh-privatekey}}\n",
                        "spec.auth.secretRef.name"),
                new Rejected("secret-key-slash", RELAY, FORWARD, "  auth: {secretRef: {name: k, key: \"a/b\"}}\n",
                        "spec.auth.secretRef.key"));
    }

    private List<Shown> shown() {
        String ed25519Blob = KEY.split(" ")[1];
        return List.of(
                new Shown("host-key-short-blob", "{host: relay, user: tunnel, hostKeys: [\"ssh-ed25519 AAAA\"]}", FORWARD, "",
                        Reasons.SPEC_INVALID),
                new Shown("host-key-wrong-type", "{host: relay, user: tunnel, hostKeys: [\"ssh-rsa " + ed25519Blob + "\"]}",
                        FORWARD, "", Reasons.SPEC_INVALID),
                new Shown("secret-missing", RELAY, FORWARD, "  auth: {secretRef: {name: nowhere}}\n", Reasons.SECRET_MISSING),
                new Shown("secret-wrong-type", RELAY, FORWARD, "  auth: {secretRef: {name: registry}}\n", Reasons.SECRET_MISSING),
                new Shown("secret-not-a-key", RELAY, FORWARD, "  auth: {secretRef: {name: not-a-key}}\n", Reasons.KEY_INVALID),
                new Shown("secret-passphrase", RELAY, FORWARD, "  auth: {secretRef: {name: passphrase}}\n", Reasons.KEY_INVALID));
    }

    private void apply(String name, String relay, String forwards, String extra) {
        String spec = relay == null ? "" : "spec:\n"
                + (relay.isEmpty() ? "" : "  relay: " + relay + "\n")
                + (forwards.isEmpty() ? "" : "  forwards: " + forwards + "\n")
                + extra;
        String yaml = "apiVersion: jumpgate.dev/v1alpha1\nkind: ReverseTunnel\nmetadata: {name: " + name + ", namespace: "
                + NS + "}\n" + spec;
        // Sent as written, like kubectl apply: the Java types would have refused some of it already.
        client.resource(Serialization.unmarshal(yaml, GenericKubernetesResource.class)).create();
    }

    private ReverseTunnel tunnel(String name) {
        return client.resources(ReverseTunnel.class).inNamespace(NS).withName(name).get();
    }

    private TunnelCondition readyOf(String name) {
        ReverseTunnel tunnel = tunnel(name);
        return tunnel == null ? null : StatusAggregator.readyCondition(tunnel.getStatus());
    }

    private void secrets() throws Exception {
        client.resource(new SecretBuilder().withNewMetadata().withName("registry").withNamespace(NS).endMetadata()
                .withType("kubernetes.io/dockerconfigjson")
                .withStringData(Map.of(".dockerconfigjson", "{\"auths\":{}}")).build()).create();
        client.resource(new SecretBuilder().withNewMetadata().withName("not-a-key").withNamespace(NS).endMetadata()
                .withStringData(Map.of("ssh-privatekey", "-----BEGIN OPENSSH PRIVATE KEY-----\nhello\n")).build()).create();
        Path dir = Files.createTempDirectory("jumpgate-keys");
        HostCommand.SSH_KEYGEN.run(Duration.ofSeconds(30), "-q", "-t", "ed25519", "-N", "a passphrase", "-f",
                dir.resolve("id").toString()).orThrow();
        client.resource(new SecretBuilder().withNewMetadata().withName("passphrase").withNamespace(NS).endMetadata()
                .withStringData(Map.of("ssh-privatekey", Files.readString(dir.resolve("id")))).build()).create();
    }

    @Test
    void everyHostileTunnelIsRefusedOrShownAndNothingElseIsDisturbed() throws Exception {
        operator.start();
        client.resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).serverSideApply();
        secrets();
        apply("bystander", RELAY, FORWARD, "");
        await().atMost(PATIENCE).until(() -> readyOf("bystander") != null
                && Reasons.AGENT_STARTING.equals(readyOf("bystander").getReason())
                && client.apps().deployments().inNamespace(NS).withName("bystander-agent").get() != null);
        String bystanderAgent = client.apps().deployments().inNamespace(NS).withName("bystander-agent").get()
                .getMetadata().getResourceVersion();

        Map<String, String> refusals = new LinkedHashMap<>();
        for (Rejected c : rejected()) {
            try {
                apply(c.name(), c.relay(), c.forwards(), c.extra());
                refusals.put(c.name(), "ACCEPTED");
            } catch (KubernetesClientException e) {
                refusals.put(c.name(), e.getCode() + " " + e.getMessage());
            }
        }
        assertThat(refusals).allSatisfy((name, answer) -> assertThat(answer).startsWith("422 ")
                .contains(rejected().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow().says()));

        List<Shown> shown = shown();
        for (Shown c : shown) {
            apply(c.name(), c.relay(), c.forwards(), c.extra());
        }
        String atTheLimit = "b".repeat(ReverseTunnel.MAX_NAME_LENGTH);
        apply(atTheLimit, RELAY, FORWARD, "");

        for (Shown c : shown) {
            await().atMost(PATIENCE).until(() -> readyOf(c.name()) != null && c.reason().equals(readyOf(c.name()).getReason()));
            assertThat(readyOf(c.name()).getStatus()).isEqualTo("False");
            assertThat(readyOf(c.name()).getMessage()).isNotBlank().doesNotContain("hello"); // never the Secret's content
            assertThat(client.apps().deployments().inNamespace(NS).withName(c.name() + "-agent").get())
                    .as("no agent for %s", c.name()).isNull();
        }
        await().atMost(PATIENCE).until(() -> client.apps().deployments().inNamespace(NS).withName(atTheLimit + "-agent")
                .get() != null && readyOf(atTheLimit) != null);
        Deployment limitAgent = client.apps().deployments().inNamespace(NS).withName(atTheLimit + "-agent").get();
        assertThat(limitAgent.getSpec().getTemplate().getMetadata().getLabels()).containsValue(atTheLimit);

        // Nothing else disturbed: the well-formed tunnel's agent was not touched, and the operator still serves it.
        assertThat(client.apps().deployments().inNamespace(NS).withName("bystander-agent").get().getMetadata()
                .getResourceVersion()).isEqualTo(bystanderAgent);
        client.resources(ReverseTunnel.class).inNamespace(NS).withName("bystander")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"keepalive\":{\"intervalSeconds\":20}}}");
        await().atMost(PATIENCE).until(() -> tunnel("bystander").getStatus().getObservedGeneration() == 2L);
        HttpURLConnection health = (HttpURLConnection) ready.openConnection();
        try (InputStream body = health.getInputStream()) {
            assertThat(health.getResponseCode()).isEqualTo(200);
            assertThat(new String(body.readAllBytes())).contains("\"UP\"");
        }
        List<String> accepted = new ArrayList<>(shown.stream().map(Shown::name).toList());
        accepted.addAll(List.of("bystander", atTheLimit));
        assertThat(client.resources(ReverseTunnel.class).inNamespace(NS).list().getItems())
                .extracting(t -> t.getMetadata().getName()).containsExactlyInAnyOrderElementsOf(accepted);
        assertThat(rejected().size() + shown.size() + 1).isGreaterThanOrEqualTo(50);
    }
}
