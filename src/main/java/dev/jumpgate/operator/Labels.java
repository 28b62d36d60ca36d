package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/** The labels on every object the operator creates; the informers select on {@link #MANAGED_SELECTOR}. */
public final class Labels {

    public static final String NAME = "app.kubernetes.io/name";
    public static final String INSTANCE = "app.kubernetes.io/instance";
    public static final String COMPONENT = "app.kubernetes.io/component";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String TUNNEL = "jumpgate.dev/tunnel";
    /** On an agent's objects and pods: the agent's name ({@link Names#agentOf}). */
    public static final String AGENT = "jumpgate.dev/agent";

    public static final String OPERATOR = "jumpgate-operator";
    public static final String MANAGED_SELECTOR = MANAGED_BY + "=" + OPERATOR;
    /**
     * The tunnels' key Secrets, not the agents' lists of members (also Secrets, owned by every member): an informer
     * on those would wake every member of a pool at each of its writes.
     */
    public static final String KEY_SECRETS_SELECTOR = MANAGED_SELECTOR + ",!" + AGENT;
    /**
     * The tunnels' report Leases, not the agents' leader Leases (renewed every second while an agent has standbys):
     * an informer on those would take an event a second for nothing.
     */
    public static final String REPORT_LEASES_SELECTOR = MANAGED_SELECTOR + ",!" + AGENT;

    private Labels() {
    }

    public static Map<String, String> of(ReverseTunnel tunnel) {
        return Map.of(
                NAME, "jumpgate-agent",
                INSTANCE, tunnel.getMetadata().getName(),
                COMPONENT, "agent",
                MANAGED_BY, OPERATOR,
                TUNNEL, tunnel.getMetadata().getName());
    }

    /** The metadata of an object the operator makes for a tunnel: its name, the tunnel's namespace, these labels. */
    public static ObjectMeta metadata(ReverseTunnel tunnel, String name) {
        return new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(tunnel.getMetadata().getNamespace())
                .withLabels(of(tunnel))
                .build();
    }

    /** The labels of an agent's objects and pods, which serve the tunnels of a pool (or one, dedicated). */
    public static Map<String, String> ofAgent(String agent) {
        return Map.of(
                NAME, "jumpgate-agent",
                INSTANCE, value(agent),
                COMPONENT, "agent",
                MANAGED_BY, OPERATOR,
                AGENT, value(agent));
    }

    /** Selects the pod of one agent. */
    public static Map<String, String> agentSelector(String agent) {
        return Map.of(AGENT, value(agent), COMPONENT, "agent");
    }

    /**
     * A name as a label value, which may hold 63 characters: a dedicated agent's name is its tunnel's (up to 63) and
     * "-agent". A longer one keeps its first 54 characters and 8 hex digits of the whole's SHA-256, so names that
     * share their first 54 characters are still told apart.
     */
    public static String value(String name) {
        if (name.length() <= 63) {
            return name;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return name.substring(0, 54) + "-" + HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
