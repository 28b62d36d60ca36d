package dev.jumpgate.chart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.testing.HostCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import dev.jumpgate.operator.OperatorLeadership;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The hand-written chart, rendered by a real helm (hack/kubernetes/build.sh builds it; hack/test.sh passes its path). */
@Tag("chart")
class HelmChartTest {

    private static final Path CHART = Path.of("helm", "jumpgate");

    private static String helm(String... args) {
        return HostCommand.helm().run(Duration.ofSeconds(60), args).orThrow();
    }

    private static List<HasMetadata> render(String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("template", "jumpgate", CHART.toString(), "--namespace", "jumpgate-system",
                "--include-crds"));
        args.addAll(List.of(extraArgs));
        String yaml = helm(args.toArray(String[]::new));
        try (KubernetesClient offline = new KubernetesClientBuilder().build()) {
            return offline.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
        }
    }

    private static <T extends HasMetadata> List<T> ofKind(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** The Roles that carry the operator's rights over tunnels, not its leader election's. */
    private static List<Role> tunnelRoles(List<HasMetadata> objects) {
        return ofKind(objects, Role.class).stream()
                .filter(r -> !r.getMetadata().getName().endsWith("-leader-election")).toList();
    }

    @Test
    void alertsDashboardAndAgentScrapingAreOffByDefaultAndComeAsPrometheusAndGrafanaExpectThem() throws Exception {
        assertThat(render()).extracting(HasMetadata::getKind).doesNotContain("PrometheusRule", "PodMonitor")
                .noneMatch(kind -> kind.equals("ConfigMap"));

        List<HasMetadata> objects = render("--set", "metrics.agentPodMonitor.enabled=true",
                "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.grafanaDashboard.enabled=true");

        assertThat(objects).extracting(HasMetadata::getKind).contains("PrometheusRule", "PodMonitor", "ConfigMap");
        ConfigMap dashboard = ofKind(objects, ConfigMap.class).get(0);
        assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dashboard.getData().get("jumpgate-tunnels.json"));
        assertThat(json.get("panels")).hasSizeGreaterThanOrEqualTo(8);
        String rules = io.fabric8.kubernetes.client.utils.Serialization.asYaml(objects.stream()
                .filter(o -> o.getKind().equals("PrometheusRule")).findFirst().orElseThrow());
        assertThat(rules).contains("JumpgateTunnelDown", "JumpgateForwardUnreachable", "JumpgateReconnectStorm",
                "JumpgateAgentNearMemoryLimit");
    }

    @Test
    void theChartLints() throws Exception {
        assertThat(helm("lint", CHART.toString())).contains("0 chart(s) failed");
    }

    @Test
    void theChartInstallsTheCheckedInCrdAndAHardenedOperator() throws Exception {
        List<HasMetadata> objects = render();

        CustomResourceDefinition crd = ofKind(objects, CustomResourceDefinition.class).get(0);
        assertThat(crd.getMetadata().getName()).isEqualTo("reversetunnels.jumpgate.dev");
        assertThat(Files.readString(CHART.resolve("crds/reversetunnels.jumpgate.dev-v1.yml")))
                .isEqualTo(Files.readString(Path.of("crds/reversetunnels.jumpgate.dev-v1.yml")));

        Deployment operator = ofKind(objects, Deployment.class).get(0);
        Container container = operator.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(operator.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getImage()).isEqualTo("jumpgate:0.1.0");
        assertThat(container.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("JUMPGATE_AGENT_IMAGE");
            assertThat(e.getValue()).isEqualTo("jumpgate:0.1.0");
        });
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");

        // Least privilege by default: the release's namespace, through a Role; nothing cluster-wide.
        assertThat(javaOptions(container)).containsExactly("-XX:TieredStopAtLevel=1",
                "-Dquarkus.operator-sdk.controllers.reversetunnel.namespaces=jumpgate-system");
        assertThat(ofKind(objects, ClusterRole.class)).isEmpty();
        assertThat(ofKind(objects, ClusterRoleBinding.class)).isEmpty();
        Role role = tunnelRoles(objects).get(0);
        assertThat(role.getMetadata().getNamespace()).isEqualTo("jumpgate-system");
        assertThat(role.getRules()).extracting(PolicyRule::getResources).flatExtracting(r -> r)
                .contains("reversetunnels", "reversetunnels/status", "secrets", "deployments", "leases", "roles",
                        "rolebindings", "serviceaccounts", "events", "networkpolicies");
        assertThat(role.getRules()).noneSatisfy(r -> assertThat(r.getVerbs()).contains("*"));
        assertThat(container.getEnv()).anySatisfy(e ->
                assertThat(e.getName() + "=" + e.getValue()).isEqualTo("JUMPGATE_AGENT_NETWORK_POLICY=true"));
    }

    @Test
    void everyNamespaceIsAnExplicitChoiceThatBringsAClusterRole() throws Exception {
        List<HasMetadata> objects = render("--set", "watchAllNamespaces=true");

        assertThat(tunnelRoles(objects)).isEmpty();
        assertThat(ofKind(objects, ClusterRole.class)).hasSize(1);
        assertThat(ofKind(objects, ClusterRoleBinding.class)).singleElement().satisfies(b ->
                assertThat(b.getSubjects().get(0).getNamespace()).isEqualTo("jumpgate-system"));
        Container container = ofKind(objects, Deployment.class).get(0).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(javaOptions(container)).contains(
                "-Dquarkus.operator-sdk.controllers.reversetunnel.namespaces=JOSDK_ALL_NAMESPACES");
    }

    @Test
    void watchingNamespacesGrantsRightsInThemOnly() throws Exception {
        List<HasMetadata> objects = render("--set", "watchNamespaces={lab,gpu}", "--set", "image.tag=dev");

        assertThat(ofKind(objects, ClusterRole.class)).isEmpty();
        assertThat(tunnelRoles(objects)).extracting(r -> r.getMetadata().getNamespace()).containsExactly("lab", "gpu");
        assertThat(ofKind(objects, RoleBinding.class)).allSatisfy(b ->
                assertThat(b.getSubjects().get(0).getNamespace()).isEqualTo("jumpgate-system"));
        Container container = ofKind(objects, Deployment.class).get(0).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getImage()).isEqualTo("jumpgate:dev");
        assertThat(javaOptions(container)).contains("-Dquarkus.operator-sdk.controllers.reversetunnel.namespaces=lab,gpu");
    }

    @Test
    void standbyReplicasComeWithLeaderElectionRightsOnOneLeaseAndADisruptionBudget() throws Exception {
        List<HasMetadata> single = render();
        assertThat(ofKind(single, Deployment.class).get(0).getSpec().getReplicas()).isEqualTo(1);
        assertThat(ofKind(single, PodDisruptionBudget.class)).isEmpty();

        List<HasMetadata> objects = render("--set", "replicas=2", "--set", "watchAllNamespaces=true");

        Deployment operator = ofKind(objects, Deployment.class).get(0);
        assertThat(operator.getSpec().getReplicas()).isEqualTo(2);
        assertThat(operator.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isZero();
        assertThat(operator.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("JUMPGATE_OPERATOR_NAMESPACE");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace");
        });
        assertThat(ofKind(objects, PodDisruptionBudget.class)).singleElement().satisfies(pdb -> {
            assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(1);
            assertThat(pdb.getSpec().getSelector().getMatchLabels())
                    .isEqualTo(operator.getSpec().getSelector().getMatchLabels());
        });
        Role election = ofKind(objects, Role.class).stream()
                .filter(r -> r.getMetadata().getName().endsWith("-leader-election")).findFirst().orElseThrow();
        assertThat(election.getMetadata().getNamespace()).isEqualTo("jumpgate-system");
        // Create cannot be limited by name in RBAC; what a held Lease needs (get, update; patch to hand it over) is
        // limited to the one.
        assertThat(election.getRules()).allSatisfy(rule -> {
            assertThat(rule.getResources()).containsExactly("leases");
            assertThat(rule.getVerbs()).doesNotContain("delete", "list", "watch", "*");
            if (!rule.getVerbs().equals(List.of("create"))) {
                assertThat(rule.getResourceNames()).containsExactly(OperatorLeadership.LEASE);
            }
        });
    }

    /**
     * The user CA's private key reaches the operator's container and nothing else: a read-only mount of that one key,
     * readable by its owner only, and no RBAC on Secrets in the operator's namespace to read it through the API.
     */
    @Test
    void aUserCaIsMountedIntoTheOperatorAloneAndOnlyWhenNamed() throws Exception {
        PodSpec without = ofKind(render(), Deployment.class).get(0).getSpec().getTemplate().getSpec();
        assertThat(without.getVolumes()).extracting(v -> v.getName()).doesNotContain("user-ca");
        assertThat(without.getContainers().get(0).getEnv()).noneSatisfy(e ->
                assertThat(e.getName()).startsWith("JUMPGATE_USER_CA"));

        List<HasMetadata> objects = render("--set", "userCA.secretName=jumpgate-user-ca", "--set",
                "userCA.certificateValidity=2h");
        PodSpec pod = ofKind(objects, Deployment.class).get(0).getSpec().getTemplate().getSpec();
        assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("user-ca")).singleElement().satisfies(v -> {
            assertThat(v.getSecret().getSecretName()).isEqualTo("jumpgate-user-ca");
            assertThat(v.getSecret().getDefaultMode()).as("the operator's user and group only").isEqualTo(0440);
            assertThat(v.getSecret().getItems()).extracting(i -> i.getKey() + "=" + i.getPath()).containsExactly("ca=ca");
        });
        assertThat(pod.getSecurityContext().getFsGroup()).as("the group the operator runs as: the file is readable")
                .isEqualTo(pod.getSecurityContext().getRunAsGroup());
        Container operator = pod.getContainers().get(0);
        assertThat(operator.getVolumeMounts()).filteredOn(m -> m.getName().equals("user-ca")).singleElement()
                .satisfies(m -> assertThat(m.getReadOnly()).isTrue());
        assertThat(operator.getEnv()).extracting(e -> e.getName() + "=" + e.getValue())
                .contains("JUMPGATE_USER_CA_FILE=/etc/jumpgate/user-ca/ca", "JUMPGATE_USER_CA_VALIDITY=2h",
                        "JUMPGATE_USER_CA_SECRET=jumpgate-user-ca");
        assertThat(ofKind(objects, Role.class)).allSatisfy(role -> assertThat(role.getRules())
                .noneSatisfy(rule -> assertThat(rule.getResourceNames()).contains("jumpgate-user-ca")));
    }

    /** The operator's own JVM flags, after the image's jvm.options. */
    private static List<String> javaOptions(Container operator) {
        return operator.getEnv().stream().filter(e -> e.getName().equals("JAVA_OPTS_APPEND"))
                .flatMap(e -> Arrays.stream(e.getValue().trim().split("\\s+"))).toList();
    }
}
