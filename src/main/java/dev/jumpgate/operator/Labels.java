package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.Map;

/** The labels on every object the operator creates; the informers select on {@link #MANAGED_SELECTOR}. */
public final class Labels {

    public static final String NAME = "app.kubernetes.io/name";
    public static final String INSTANCE = "app.kubernetes.io/instance";
    public static final String COMPONENT = "app.kubernetes.io/component";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String TUNNEL = "jumpgate.dev/tunnel";

    public static final String OPERATOR = "jumpgate-operator";
    public static final String MANAGED_SELECTOR = MANAGED_BY + "=" + OPERATOR;

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

    /** Selects the agent pod of one tunnel. */
    public static Map<String, String> selector(ReverseTunnel tunnel) {
        return Map.of(TUNNEL, tunnel.getMetadata().getName(), COMPONENT, "agent");
    }
}
