package dev.jumpgate.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;

/**
 * What the operator's informers keep of each object. Most of a cached object is its managedFields, a tree of maps
 * per field manager: about two thirds of the heap at 1000 tunnels. Nothing in the operator reads them: status is
 * patched, never matched, and owned objects are created, never updated, so they are dropped before an object is
 * stored. Of the rest, most is strings, and most of those say what other objects say too (a namespace, a tunnel's
 * name and uid in its key's and Lease's labels and owner references, a relay's host key, a condition's reason): each
 * is kept once ({@link #shareStrings}), which at 10,000 tunnels is tens of MiB of a heap sized for a few hundred.
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
                shareStrings(secret);
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
                shareStrings(resource);
                return resource;
            });
        }
    }

    /**
     * Replaces the object's strings by the JVM's one copy of each ({@link String#intern}, whose table lets go of what
     * nothing holds): the metadata's, and every string in our own API types (a tunnel's spec and status).
     */
    static void shareStrings(HasMetadata resource) {
        ObjectMeta meta = resource.getMetadata();
        // Name and namespace: the store puts back the very strings it came with (TransformingItemStore).
        meta.setUid(shared(meta.getUid()));
        meta.setCreationTimestamp(shared(meta.getCreationTimestamp()));
        meta.setLabels(shared(meta.getLabels()));
        meta.setAnnotations(sharedKeys(meta.getAnnotations())); // values: an agent's report, new at each heartbeat
        if (meta.getOwnerReferences() != null) {
            for (OwnerReference owner : meta.getOwnerReferences()) {
                owner.setApiVersion(shared(owner.getApiVersion()));
                owner.setKind(shared(owner.getKind()));
                owner.setName(shared(owner.getName()));
                owner.setUid(shared(owner.getUid()));
            }
        }
        if (resource instanceof Secret secret) {
            secret.setType(shared(secret.getType()));
        } else if (resource instanceof Lease lease && lease.getSpec() != null) {
            lease.getSpec().setHolderIdentity(shared(lease.getSpec().getHolderIdentity()));
        } else if (resource instanceof ReverseTunnel tunnel) {
            shareFields(tunnel.getSpec());
            shareFields(tunnel.getStatus());
        }
    }

    private static String shared(String value) {
        return value == null ? null : value.intern();
    }

    private static Map<String, String> shared(Map<String, String> map) {
        if (map == null || map.isEmpty()) {
            return map;
        }
        Map<String, String> copy = new LinkedHashMap<>(map.size() * 4 / 3 + 1);
        map.forEach((key, value) -> copy.put(shared(key), shared(value)));
        return copy;
    }

    private static Map<String, String> sharedKeys(Map<String, String> map) {
        if (map == null || map.isEmpty()) {
            return map;
        }
        Map<String, String> copy = new LinkedHashMap<>(map.size() * 4 / 3 + 1);
        map.forEach((key, value) -> copy.put(shared(key), value));
        return copy;
    }

    /** Every string field of one of our API objects, its lists' and its nested objects', shared. */
    private static void shareFields(Object object) {
        if (object == null) {
            return;
        }
        if (object instanceof List<?> list) {
            list.forEach(InformerCaches::shareFields);
            if (!list.isEmpty() && list.get(0) instanceof String) {
                @SuppressWarnings("unchecked")
                List<String> strings = (List<String>) list;
                strings.replaceAll(InformerCaches::shared);
            }
            return;
        }
        if (object instanceof Enum<?> || !object.getClass().getPackageName().equals(ReverseTunnel.class.getPackageName())) {
            return; // a number, a boolean, an enum constant
        }
        for (Field field : FIELDS.get(object.getClass())) {
            try {
                Object value = field.get(object);
                if (value instanceof String text) {
                    field.set(object, text.intern());
                } else {
                    shareFields(value);
                }
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** The instance fields of each of our API classes, made accessible once. */
    private static final ClassValue<List<Field>> FIELDS = new ClassValue<>() {
        @Override
        protected List<Field> computeValue(Class<?> type) {
            List<Field> fields = new ArrayList<>();
            for (Class<?> c = type; c != null && c.getPackageName().equals(type.getPackageName()); c = c.getSuperclass()) {
                for (Field field : c.getDeclaredFields()) {
                    if (!Modifier.isStatic(field.getModifiers()) && !field.getType().isPrimitive()) {
                        field.setAccessible(true);
                        fields.add(field);
                    }
                }
            }
            return List.copyOf(fields);
        }
    };
}
