package dev.jumpgate.operator.dependent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;

/**
 * An object the operator makes for a tunnel and keeps as it wants it, written with server-side apply. Whether it
 * needs writing is decided field by field: what the desired object sets must be there with the same value; what
 * the API server defaulted or someone else added is ignored. That needs no managedFields, which the informer caches
 * drop ({@link dev.jumpgate.operator.InformerCaches}): JOSDK's SSA matcher would read them, and they are most of the
 * operator's memory at scale.
 */
abstract class KeptDependent<R extends HasMetadata> extends CRUDKubernetesDependentResource<R, ReverseTunnel> {

    KeptDependent(Class<R> type) {
        super(type);
    }

    @Override
    public Matcher.Result<R> match(R actual, R desired, ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        KubernetesSerialization json = context.getClient().getKubernetesSerialization();
        boolean matched = DesiredFields.presentIn(json.convertValue(desired, JsonNode.class),
                json.convertValue(actual, JsonNode.class));
        return Matcher.Result.computed(matched, desired);
    }
}
