package dev.jumpgate.api;

import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.Comparator;
import java.util.List;

/**
 * What the CRD generator has no annotation for: printer columns in the order users read them, and conditions as a
 * list keyed by type (the Kubernetes API conventions), so that server-side apply merges them by type.
 */
final class CrdShape implements CRDPostProcessor {

    private static final List<String> COLUMNS = List.of("Ready", "Relay", "Forwards", "Reason", "Age");

    @Override
    public HasMetadata process(HasMetadata resource, String crdSpecVersion) {
        CustomResourceDefinition crd = (CustomResourceDefinition) resource;
        crd.getSpec().getVersions().forEach(version -> {
            version.getAdditionalPrinterColumns()
                    .sort(Comparator.comparingInt((CustomResourceColumnDefinition c) -> COLUMNS.indexOf(c.getName())));
            JSONSchemaProps conditions = version.getSchema().getOpenAPIV3Schema().getProperties().get("status")
                    .getProperties().get("conditions");
            conditions.setXKubernetesListType("map");
            conditions.setXKubernetesListMapKeys(List.of("type"));
            conditions.getItems().getSchema().setRequired(List.of("type", "status"));
        });
        return crd;
    }
}
