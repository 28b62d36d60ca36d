package dev.jumpgate.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumpgate.testing.HostCommand;
import dev.jumpgate.testing.RealApiServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The operator's rights as the chart grants them by default, tried from the side of someone who took the operator's
 * pod and its ServiceAccount token: the chart's RBAC objects applied to a real kube-apiserver, the calls made as
 * that ServiceAccount.
 */
@Tag("apiserver")
class ChartRbacOnRealApiServerTest {

    private static final String OPERATOR = "system:serviceaccount:jumpgate-system:jumpgate";

    private static RealApiServer api;
    private static KubernetesClient admin;

    @BeforeAll
    static void installTheChartsRbac() throws Exception {
        api = RealApiServer.startWithCrd();
        admin = api.client();
        for (String ns : List.of("jumpgate-system", "elsewhere")) {
            admin.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
            admin.resource(new SecretBuilder().withNewMetadata().withName("database").withNamespace(ns).endMetadata()
                    .withStringData(Map.of("password", "hunter2")).build()).create();
        }
        String yaml = HostCommand.helm().run(Duration.ofSeconds(60), "template", "jumpgate", "helm/jumpgate",
                "--namespace", "jumpgate-system").orThrow();
        List<HasMetadata> objects = admin.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
        for (HasMetadata object : objects) {
            if (object instanceof Role || object instanceof RoleBinding
                    || object instanceof io.fabric8.kubernetes.api.model.ServiceAccount) {
                admin.resource(object).inNamespace(object.getMetadata().getNamespace() == null ? "jumpgate-system"
                        : object.getMetadata().getNamespace()).create();
            }
        }
        assertThat(objects).noneMatch(o -> o.getKind().startsWith("Cluster") && !o.getKind().equals("CustomResourceDefinition"));
    }

    @AfterAll
    static void stop() {
        admin.close();
        api.close();
    }

    private static void assertForbidden(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(KubernetesClientException.class,
                e -> assertThat(e.getCode()).isEqualTo(403));
    }

    @Test
    void theOperatorMayWorkInItsNamespaceAndNowhereElse() {
        try (KubernetesClient operator = api.clientAs(OPERATOR)) {
            assertThat(operator.secrets().inNamespace("jumpgate-system").withName("database").get()).isNotNull();
            assertThat(operator.apps().deployments().inNamespace("jumpgate-system").list().getItems()).isEmpty();

            assertForbidden(() -> operator.secrets().inNamespace("elsewhere").withName("database").get());
            assertForbidden(() -> operator.secrets().inAnyNamespace().list());
            assertForbidden(() -> operator.apps().deployments().inNamespace("elsewhere").resource(new Deployment()).create());
            assertForbidden(() -> operator.rbac().roles().inNamespace("elsewhere").list());
            assertForbidden(() -> operator.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder()
                    .withNewMetadata().withName("me-admin").endMetadata()
                    .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "cluster-admin")
                    .addNewSubject().withKind("ServiceAccount").withName("jumpgate").withNamespace("jumpgate-system")
                    .endSubject().build()).create());
            assertForbidden(() -> operator.pods().inNamespace("jumpgate-system").list());
            assertForbidden(() -> operator.nodes().list());
        }
    }
}
