package dev.jumpgate.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import io.fabric8.crdv2.generator.CRDGenerationInfo;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.client.CustomResource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CRD users install (crds/, and the chart's copy) is the one the API classes generate. After changing the API:
 * {@code mvn test -Dtest=CrdDriftTest -Djumpgate.crds.update=true} rewrites both.
 */
class CrdDriftTest {

    static final String FILE = "reversetunnels.jumpgate.dev-v1.yml";
    static final List<Path> CHECKED_IN = List.of(Path.of("crds", FILE), Path.of("helm", "jumpgate", "crds", FILE));

    @Test
    void everyFieldUsersSeeInKubectlExplainHasADescription() throws IOException {
        CustomResourceDefinition crd = Serialization.unmarshal(Files.readString(CHECKED_IN.get(0)),
                CustomResourceDefinition.class);
        List<String> undescribed = new ArrayList<>();
        JSONSchemaProps root = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
        root.getProperties().forEach((name, field) -> collectUndescribed(name, field, undescribed));
        assertThat(undescribed).isEmpty();
    }

    private static void collectUndescribed(String path, JSONSchemaProps field, List<String> undescribed) {
        if (field.getDescription() == null || field.getDescription().isBlank()) {
            undescribed.add(path);
        }
        if (field.getProperties() != null) {
            field.getProperties().forEach((name, child) -> collectUndescribed(path + "." + name, child, undescribed));
        }
        if (field.getItems() != null && field.getItems().getSchema() != null
                && field.getItems().getSchema().getProperties() != null) {
            field.getItems().getSchema().getProperties()
                    .forEach((name, child) -> collectUndescribed(path + "[]." + name, child, undescribed));
        }
    }

    @Test
    void theCheckedInCrdIsTheGeneratedOne(@TempDir Path dir) throws IOException {
        CRDGenerationInfo info = new CRDGenerator()
                .inOutputDir(dir.toFile())
                .forCRDVersions("v1")
                .customResourceClasses(ReverseTunnel.class)
                .withPostProcessor(new CrdShape())
                .detailedGenerate();
        Path generated = Path.of(info.getCRDInfos(CustomResource.getCRDName(ReverseTunnel.class)).get("v1").getFilePath());
        String expected = Files.readString(generated);

        for (Path file : CHECKED_IN) {
            if (Boolean.getBoolean("jumpgate.crds.update")) {
                Files.createDirectories(file.getParent());
                Files.writeString(file, expected);
            }
            assertThat(file).as(file + " is stale: run mvn test -Dtest=CrdDriftTest -Djumpgate.crds.update=true")
                    .exists().hasContent(expected);
        }
    }
}
