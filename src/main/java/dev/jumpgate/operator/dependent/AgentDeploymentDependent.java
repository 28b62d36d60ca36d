package dev.jumpgate.operator.dependent;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.SpecValidation;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.operator.AgentKey;
import dev.jumpgate.operator.AgentPodConfig;
import dev.jumpgate.operator.InformerCaches;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HTTPGetActionBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;

/**
 * The agent: one pod, the operator's own image in agent mode, holding the tunnel's SSH session. Hardened as the
 * restricted Pod Security Standard asks: non-root, read-only root filesystem, no capabilities, no privilege
 * escalation, the runtime's seccomp profile.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR, itemStore = InformerCaches.WithoutManagedFields.class))
public class AgentDeploymentDependent extends KeptDependent<Deployment> {

    public static final String CONTAINER = "agent";
    public static final String IDENTITY_DIR = "/var/run/jumpgate/identity";
    public static final int HTTP_PORT = AgentContract.HTTP_PORT;
    /** Changes when the key Secret does, so that a new key rolls the agent onto a new session. */
    public static final String KEY_VERSION_ANNOTATION = "jumpgate.dev/key-version";
    /** An agent has this long to start (2 s x 60: two minutes) before the kubelet restarts it. */
    static final int STARTUP_PROBE_PERIOD_SECONDS = 2;
    static final int STARTUP_PROBE_FAILURES = 60;

    @Inject
    AgentPodConfig config;

    public AgentDeploymentDependent() {
        super(Deployment.class);
    }

    @Override
    protected Deployment desired(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        AgentKey key = AgentKey.of(tunnel, context);
        String name = Names.agent(tunnel);
        return new DeploymentBuilder()
                .withMetadata(Labels.metadata(tunnel, name))
                .withNewSpec()
                .withReplicas(1)
                // Never two agents: they would contend for the same ports on the relay.
                .withNewStrategy().withType("Recreate").endStrategy()
                .withNewSelector().withMatchLabels(Labels.selector(tunnel)).endSelector()
                .withNewTemplate()
                .withNewMetadata()
                .withLabels(Labels.of(tunnel))
                .withAnnotations(Map.of(KEY_VERSION_ANNOTATION, String.valueOf(key.version())))
                .endMetadata()
                .withNewSpec()
                .withServiceAccountName(name)
                .withEnableServiceLinks(false)
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withRunAsUser(config.runAsUser())
                .withRunAsGroup(config.runAsUser())
                .withFsGroup(config.runAsUser())
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .endSecurityContext()
                .withContainers(new ContainerBuilder()
                        .withName(CONTAINER)
                        .withImage(config.image())
                        .withImagePullPolicy(config.imagePullPolicy())
                        .withEnv(env(tunnel, key))
                        .addNewPort().withName("http").withContainerPort(HTTP_PORT).endPort()
                        .withNewSecurityContext()
                        .withReadOnlyRootFilesystem(true)
                        .withAllowPrivilegeEscalation(false)
                        .withRunAsNonRoot(true)
                        .withNewCapabilities().withDrop("ALL").endCapabilities()
                        .endSecurityContext()
                        .withNewResources()
                        .withRequests(Map.of("cpu", new Quantity(config.cpuRequest()),
                                "memory", new Quantity(config.memoryRequest())))
                        .withLimits(Map.of("memory", new Quantity(config.memoryLimit())))
                        .endResources()
                        // Ready means connected with every forward bound; live means the agent's loop runs. Liveness
                        // waits for the start: a JVM slowed by its neighbours starting on the same cores is slow, not
                        // dead (20 agents at once on 2 cores: 6 killed by liveness before they listened, issue 13).
                        .withStartupProbe(new ProbeBuilder(probe("/q/health/started", STARTUP_PROBE_PERIOD_SECONDS))
                                .withFailureThreshold(STARTUP_PROBE_FAILURES).build())
                        .withReadinessProbe(probe("/q/health/ready", 5))
                        .withLivenessProbe(probe("/q/health/live", 20))
                        .addNewVolumeMount().withName("identity").withMountPath(IDENTITY_DIR).withReadOnly(true).endVolumeMount()
                        .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
                        .build())
                .addNewVolume()
                .withName("identity")
                .withNewSecret()
                .withSecretName(key.secretName())
                .addNewItem().withKey(key.dataKey()).withPath(AgentKey.PRIVATE_KEY).endItem()
                .withDefaultMode(0440)
                .endSecret()
                .endVolume()
                .addNewVolume().withName("tmp").withNewEmptyDir().withMedium("Memory").withSizeLimit(new Quantity("16Mi"))
                .endEmptyDir().endVolume()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
    }

    private static List<EnvVar> env(ReverseTunnel tunnel, AgentKey key) {
        return List.of(
                // The image's entrypoint starts the agent's own process (AgentMain), not the operator's.
                new EnvVarBuilder().withName(AgentContract.MODE_ENV).withValue(AgentContract.AGENT_MODE).build(),
                new EnvVarBuilder().withName(AgentContract.TUNNEL_NAME_ENV).withValue(tunnel.getMetadata().getName()).build(),
                new EnvVarBuilder().withName(AgentContract.LEASE_NAME_ENV).withValue(Names.agent(tunnel)).build(),
                new EnvVarBuilder().withName(AgentContract.TUNNEL_NAMESPACE_ENV).withNewValueFrom()
                        .withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef().endValueFrom().build(),
                new EnvVarBuilder().withName(AgentContract.IDENTITY_ENV).withValue(IDENTITY_DIR + "/" + AgentKey.PRIVATE_KEY).build());
    }

    private static Probe probe(String path, int periodSeconds) {
        return new ProbeBuilder()
                .withHttpGet(new HTTPGetActionBuilder().withPath(path).withPort(new IntOrString("http")).build())
                .withPeriodSeconds(periodSeconds)
                .withFailureThreshold(3)
                .build();
    }

    /**
     * The agent runs only with a valid spec and a usable key: otherwise the status says why, and no pod crash-loops
     * on a missing Secret volume.
     */
    public static class CanRun implements Condition<Deployment, ReverseTunnel> {
        @Override
        public boolean isMet(DependentResource<Deployment, ReverseTunnel> dependent, ReverseTunnel tunnel,
                Context<ReverseTunnel> context) {
            return SpecValidation.problems(tunnel.getSpec()).isEmpty() && AgentKey.of(tunnel, context).available();
        }
    }
}
