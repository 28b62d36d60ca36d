package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.SpecValidation;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The agent in its pod: follows its own ReverseTunnel (the spec, and the host key pinned in its status) and reports
 * into its Lease. A spec the agent cannot use is logged and ignored: the tunnel keeps running as it was, and the
 * operator reports the spec as invalid.
 */
public final class ClusterAgent implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ClusterAgent.class);

    private final TunnelAgent agent;
    private final LeaseReporter reporter;
    private final Path identityFile;
    private final SharedIndexInformer<ReverseTunnel> informer;
    private long appliedGeneration = -1;
    private String appliedAcceptedKey;

    private ClusterAgent(AgentRuntime runtime, KubernetesClient client, Settings settings) {
        this.identityFile = settings.identity();
        this.reporter = new LeaseReporter(client, settings.namespace(), settings.lease(), settings.holder());
        this.agent = runtime.start(reporter);
        this.informer = client.resources(ReverseTunnel.class).inNamespace(settings.namespace())
                .withName(settings.tunnel()).inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(ReverseTunnel tunnel) {
                        apply(tunnel);
                    }

                    @Override
                    public void onUpdate(ReverseTunnel before, ReverseTunnel tunnel) {
                        apply(tunnel);
                    }

                    @Override
                    public void onDelete(ReverseTunnel tunnel, boolean unknownFinalState) {
                        LOG.info("the ReverseTunnel was deleted; the pod goes with it");
                    }
                });
    }

    /** Where the pod's environment (set by the operator) says the tunnel, its Lease and its key are. */
    public record Settings(String namespace, String tunnel, String lease, String holder, Path identity) {
    }

    public static ClusterAgent start(AgentRuntime runtime, KubernetesClient client, Settings settings) {
        LOG.infof("agent for ReverseTunnel %s/%s", settings.namespace(), settings.tunnel());
        return new ClusterAgent(runtime, client, settings);
    }

    private synchronized void apply(ReverseTunnel tunnel) {
        long generation = tunnel.generation();
        String acceptedKey = tunnel.getStatus() == null || tunnel.getStatus().getRelay() == null ? null
                : tunnel.getStatus().getRelay().getAcceptedHostKey();
        if (generation == appliedGeneration && java.util.Objects.equals(acceptedKey, appliedAcceptedKey)) {
            return; // a status update of the operator's: nothing for the agent
        }
        List<String> problems = SpecValidation.problems(tunnel.getSpec());
        if (!problems.isEmpty()) {
            LOG.warnf("ignoring generation %d, its spec is invalid: %s", generation, String.join("; ", problems));
            return;
        }
        Identity identity;
        try {
            identity = Identity.read(identityFile);
        } catch (IOException e) {
            LOG.errorf("cannot read the key at %s: %s", identityFile, e.getMessage());
            return;
        }
        appliedGeneration = generation;
        appliedAcceptedKey = acceptedKey;
        agent.apply(new TunnelConfig(generation, tunnel.getSpec(), identity, acceptedKey));
    }

    @Override
    public void close() {
        informer.close();
        agent.close(); // its last report says it stopped
        reporter.close();
    }
}
