package dev.jumpgate.testing;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * ReverseTunnels the CRD's schema rejects, written as a user (or an attacker with create rights in a namespace) would
 * write them. One corpus for both tiers: the API server tier applies each to a real kube-apiserver and expects a 422
 * that says {@link Rejected#says()}; the unit tier reads each as the standalone agent reads its file and expects
 * SpecValidation to refuse it for the same field ({@link Rejected#field()}).
 */
public final class InvalidTunnels {

    public static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN";
    public static final String RELAY = "{host: relay.example.com, user: tunnel, hostKeys: [\"" + KEY + "\"]}";
    public static final String FORWARD = "[{name: ssh, remote: {port: 4040}, target: {host: 10.8.92.10, port: 22}}]";

    /** The field of the schema's CEL rules, whose messages name none. */
    private static final Map<String, String> CEL_RULE_FIELDS = Map.ofEntries(
            Map.entry("forward names must be unique", "spec.forwards"),
            Map.entry("two forwards cannot listen on the same remote address and port", "spec.forwards"),
            Map.entry("hostKeys must pin at least one relay host key", "spec.relay.hostKeys"),
            Map.entry("minBackoffSeconds must not exceed maxBackoffSeconds", "spec.reconnect"),
            Map.entry("at most 63 characters", "metadata.name"),
            Map.entry("a dedicated agent belongs to no pool", "spec.agent"),
            Map.entry("a fallback relay cannot be spec.relay itself", "spec"),
            Map.entry("each fallback relay must be another host or port", "spec.fallbackRelays"),
            Map.entry("a forward has either a target or socks", "spec.forwards[0]"),
            Map.entry("a SOCKS forward's check cannot expect an SSH banner", "spec.forwards[0]"),
            Map.entry("each network must be a CIDR", "spec.forwards[0].socks.networks"),
            Map.entry("a SOCKS forward listens on the relay's loopback only", "spec.forwards[0]"));

    private InvalidTunnels() {
    }

    /** A tunnel the API server answers with 422 and a message that contains {@code says}. */
    public record Rejected(String name, String relay, String forwards, String extra, String says) {

        /** The field the case is about: what the API server names, or the field of the CEL rule it quotes. */
        public String field() {
            if (says.startsWith("spec")) {
                return says.split("[: ]")[0];
            }
            return CEL_RULE_FIELDS.entrySet().stream().filter(e -> says.contains(e.getKey())).map(Map.Entry::getValue)
                    .findFirst().orElseThrow(() -> new IllegalStateException("which field does '" + says + "' name?"));
        }

        public String yaml(String namespace) {
            return InvalidTunnels.yaml(name, namespace, relay, forwards, extra);
        }
    }

    /** A ReverseTunnel as a user writes it: relay null for no spec at all, "" for a spec without that part. */
    public static String yaml(String name, String namespace, String relay, String forwards, String extra) {
        String spec = relay == null ? "" : "spec:\n"
                + (relay.isEmpty() ? "" : "  relay: " + relay + "\n")
                + (forwards.isEmpty() ? "" : "  forwards: " + forwards + "\n")
                + extra;
        return "apiVersion: jumpgate.dev/v1alpha1\nkind: ReverseTunnel\nmetadata: {name: " + name + ", namespace: "
                + namespace + "}\n" + spec;
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

    public static List<Rejected> rejected() {
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
                new Rejected("remote-port-missing", RELAY, forwardTo("{bindAddress: 127.0.0.1}", "{host: a, port: 22}"), "",
                        "spec.forwards[0].remote.port"),
                new Rejected("host-key-policy-number", "{host: relay, user: tunnel, hostKeyPolicy: 1}", FORWARD, "",
                        "spec.relay.hostKeyPolicy"),
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
                new Rejected("no-target", RELAY, "[{name: ssh, remote: {port: 4040}}]", "",
                        "a forward has either a target or socks"),
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
                new Rejected("jump-host-unpinned", relayWith("via: [{host: bastion, user: jump}]"), FORWARD, "",
                        "spec.relay.via[0].hostKeys"),
                new Rejected("jump-host-no-keys", relayWith("via: [{host: bastion, user: jump, hostKeys: []}]"), FORWARD, "",
                        "spec.relay.via[0].hostKeys"),
                new Rejected("jump-host-no-user", relayWith("via: [{host: bastion, hostKeys: [\"" + KEY + "\"]}]"), FORWARD,
                        "", "spec.relay.via[0].user"),
                new Rejected("jump-host-option", relayWith("via: [{host: \"-oProxyCommand=sh\", user: jump, hostKeys: [\""
                        + KEY + "\"]}]"), FORWARD, "", "spec.relay.via[0].host"),
                new Rejected("five-jump-hosts", relayWith("via: " + many(5, i -> "{host: hop" + i + ", user: jump, hostKeys: [\""
                        + KEY + "\"]}")), FORWARD, "", "spec.relay.via"),
                new Rejected("forward-target-and-socks", RELAY, "[{name: ssh, remote: {port: 4040}, target: {host: lab, "
                        + "port: 22}, socks: {networks: [10.8.92.0/24]}}]", "", "a forward has either a target or socks"),
                new Rejected("socks-no-networks", RELAY, "[{name: lan, remote: {port: 1080}, socks: {networks: []}}]", "",
                        "spec.forwards[0].socks.networks"),
                new Rejected("socks-not-a-cidr", RELAY, "[{name: lan, remote: {port: 1080}, socks: {networks: "
                        + "[10.8.92.300/24]}}]", "", "each network must be a CIDR"),
                new Rejected("socks-prefix-too-long", RELAY, "[{name: lan, remote: {port: 1080}, socks: {networks: "
                        + "[10.8.92.0/33]}}]", "", "each network must be a CIDR"),
                new Rejected("socks-open-to-all", RELAY, "[{name: lan, remote: {bindAddress: 0.0.0.0, port: 1080}, "
                        + "socks: {networks: [10.8.92.0/24]}}]", "", "a SOCKS forward listens on the relay's loopback only"),
                new Rejected("socks-ssh-banner", RELAY, "[{name: lan, remote: {port: 1080}, socks: {networks: "
                        + "[10.8.92.0/24]}, check: SSHBanner}]", "", "a SOCKS forward's check cannot expect an SSH banner"),
                new Rejected("socks-port-zero", RELAY, "[{name: lan, remote: {port: 1080}, socks: {networks: "
                        + "[10.8.92.0/24], ports: [0]}}]", "", "spec.forwards[0].socks.ports[0]"),
                new Rejected("host-ca-not-a-key", relayWith("hostCertificateAuthorities: [\"@cert-authority * ssh-ed25519 "
                        + "AAAA\"]"), FORWARD, "", "spec.relay.hostCertificateAuthorities[0]"),
                new Rejected("fallback-unpinned", RELAY, FORWARD, "  fallbackRelays: [{host: relay-b, user: tunnel}]\n",
                        "spec.fallbackRelays[0].hostKeys"),
                new Rejected("fallback-no-user", RELAY, FORWARD, "  fallbackRelays: [{host: relay-b, hostKeys: [\""
                        + KEY + "\"]}]\n", "spec.fallbackRelays[0].user"),
                new Rejected("fallback-option", RELAY, FORWARD, "  fallbackRelays: [{host: \"-oProxyCommand=sh\", "
                        + "user: tunnel, hostKeys: [\"" + KEY + "\"]}]\n", "spec.fallbackRelays[0].host"),
                new Rejected("fallback-is-the-relay", RELAY, FORWARD, "  fallbackRelays: [{host: relay.example.com, "
                        + "user: other, hostKeys: [\"" + KEY + "\"]}]\n", "a fallback relay cannot be spec.relay itself"),
                new Rejected("fallback-twice", RELAY, FORWARD, "  fallbackRelays: " + many(2, i -> "{host: relay-b, "
                        + "port: 2222, user: tunnel, hostKeys: [\"" + KEY + "\"]}") + "\n",
                        "each fallback relay must be another host or port"),
                new Rejected("four-fallbacks", RELAY, FORWARD, "  fallbackRelays: " + many(4, i -> "{host: relay-" + i
                        + ", user: tunnel, hostKeys: [\"" + KEY + "\"]}") + "\n", "spec.fallbackRelays"),
                new Rejected("failback-too-often", RELAY, FORWARD, "  reconnect: {failbackSeconds: 1}\n",
                        "spec.reconnect.failbackSeconds"),
                new Rejected("proxy-no-type", relayWith("proxy: {host: proxy, port: 3128}"), FORWARD, "", "spec.relay.proxy.type"),
                new Rejected("proxy-type-unknown", relayWith("proxy: {type: SOCKS4, host: proxy, port: 1080}"), FORWARD, "",
                        "spec.relay.proxy.type"),
                new Rejected("proxy-no-port", relayWith("proxy: {type: HTTPConnect, host: proxy}"), FORWARD, "",
                        "spec.relay.proxy.port"),
                new Rejected("proxy-secret-path", relayWith("proxy: {type: HTTPConnect, host: proxy, port: 3128, "
                        + "credentialsSecret: \"../other\"}"), FORWARD, "", "spec.relay.proxy.credentialsSecret"),
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
                        "spec.auth.secretRef.key"),
                new Rejected("pool-and-own-pod", RELAY, FORWARD, "  agent: {pool: edge, dedicated: true}\n",
                        "a dedicated agent belongs to no pool"),
                new Rejected("pool-not-a-label", RELAY, FORWARD, "  agent: {pool: \"../Edge\"}\n", "spec.agent.pool"),
                new Rejected("pool-too-long", RELAY, FORWARD, "  agent: {pool: " + "p".repeat(41) + "}\n",
                        "spec.agent.pool"),
                new Rejected("no-agent-pod", RELAY, FORWARD, "  agent: {replicas: 0}\n", "spec.agent.replicas"),
                new Rejected("agent-pods-galore", RELAY, FORWARD, "  agent: {replicas: 4}\n", "spec.agent.replicas"));
    }
}
