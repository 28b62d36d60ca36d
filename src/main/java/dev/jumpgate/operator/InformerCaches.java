package dev.jumpgate.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
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
