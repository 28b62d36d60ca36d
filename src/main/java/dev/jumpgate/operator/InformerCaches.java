package dev.jumpgate.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.HashMap;
import java.util.Map;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;

/**
 * What the operator's informers keep of each object. Most of a cached object is its managedFields, a tree of maps
 * per field manager: about two thirds of the heap at 1000 tunnels. Nothing in the operator reads them: status is
 * patched, never matched, and owned objects are matched field by field
 * ({@code dev.jumpgate.operator.dependent.KeptDependent}), so they are dropped before an object is stored.
 */
public final class InformerCaches {

    private InformerCaches() {
    }

    /**
     * The store of the tunnels' generated key Secrets: without managedFields, and without the private key, which the
     * operator writes once and never reads again (the agent gets it from its volume). The data key stays, empty, to
     * tell that the Secret has one. A heap dump of the operator then holds no tunnel's key.
     */
    public static final class KeySecretsWithoutPrivateKey extends TransformingItemStore<Secret> {
        public KeySecretsWithoutPrivateKey() {
            super(secret -> {
                secret.getMetadata().setManagedFields(null);
                if (secret.getData() != null && secret.getData().containsKey(AgentKey.PRIVATE_KEY)) {
                    Map<String, String> data = new HashMap<>(secret.getData());
                    data.put(AgentKey.PRIVATE_KEY, "");
                    secret.setData(data);
                }
                return secret;
            });
        }
    }

    /** Every informer's store: the objects as the API server sent them, less their managedFields. */
    public static final class WithoutManagedFields<R extends HasMetadata> extends TransformingItemStore<R> {
        public WithoutManagedFields() {
            super(resource -> {
                resource.getMetadata().setManagedFields(null);
                return resource;
            });
        }
    }
}
