package dev.jumpgate.agent;

import dev.jumpgate.agent.KubernetesApi.ApiException;
import dev.jumpgate.agent.KubernetesApi.TunnelWatch;
import dev.jumpgate.agent.KubernetesApi.WatchEvent;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.SpecValidation;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.jboss.logging.Logger;

/**
 * The agent in its pod: follows its own ReverseTunnel (the spec, and the host key pinned in its status) and reports
 * into its Lease. A spec the agent cannot use is logged and ignored: the tunnel keeps running as it was, and the
 * operator reports the spec as invalid.
 *
 * <p>Following is a read, then a watch from the version read, renewed when the server ends it; a watch the server no
 * longer can serve (410 Gone: the version is too old) starts again from a read. Failures wait with a jittered backoff
 * (1 s doubling to 30 s), so a cluster of agents does not come back to a recovering API server in step.
 */
public final class ClusterAgent implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ClusterAgent.class);

    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    private static final Duration LAST_RETRY = Duration.ofSeconds(30);
    /** A watch the server ends sooner than this counts as a failure: it must not turn into a loop of watches. */
    private static final Duration SHORTEST_WATCH = Duration.ofSeconds(5);

    private final TunnelAgent agent;
    private final LeaseReporter reporter;
    private final KubernetesApi api;
    private final Settings settings;
    private final Thread follower;
    private volatile boolean closed;
    private volatile TunnelWatch watching;
    private long appliedGeneration = -1;
    private String appliedAcceptedKey;

    private ClusterAgent(AgentRuntime runtime, KubernetesApi api, Settings settings) {
        this.api = api;
        this.settings = settings;
        this.reporter = new LeaseReporter(api, settings.namespace(), settings.lease(), settings.holder());
        this.agent = runtime.start(reporter);
        this.follower = SshThreads.start("jumpgate-tunnel-watch", this::follow);
    }

    /** Where the pod's environment (set by the operator) says the tunnel, its Lease and its key are. */
    public record Settings(String namespace, String tunnel, String lease, String holder, Path identity) {
    }

    public static ClusterAgent start(AgentRuntime runtime, KubernetesApi api, Settings settings) {
        LOG.infof("agent for ReverseTunnel %s/%s", settings.namespace(), settings.tunnel());
        return new ClusterAgent(runtime, api, settings);
    }

    /** The follower thread: read, watch, renew, until closed. */
    private void follow() {
        Backoff backoff = new Backoff(FIRST_RETRY, LAST_RETRY, ThreadLocalRandom.current());
        String version = null;
        boolean failing = false;
        while (!closed) {
            long started = System.nanoTime();
            try {
                if (version == null) {
                    ReverseTunnel tunnel = api.tunnel(settings.namespace(), settings.tunnel());
                    if (tunnel == null) {
                        throw new ApiException(404, "no ReverseTunnel " + settings.tunnel() + " (yet)");
                    }
                    apply(tunnel);
                    version = tunnel.getMetadata().getResourceVersion();
                }
                version = watchFrom(version);
                if (failing) {
                    LOG.info("following the ReverseTunnel again");
                    failing = false;
                }
                if (System.nanoTime() - started >= SHORTEST_WATCH.toNanos()) {
                    backoff.reset();
                    continue;
                }
            } catch (ApiException e) {
                if (e.code() == 410) {
                    version = null; // too old to watch from: read again, at once
                    continue;
                }
                failing = warnOnce(failing, e);
            } catch (IOException | RuntimeException e) {
                if (closed) {
                    return;
                }
                failing = warnOnce(failing, e);
            }
            try {
                Thread.sleep(backoff.next().toMillis());
            } catch (InterruptedException e) {
                return; // closed
            }
        }
    }

    /** Applies the events of one watch; the resourceVersion to go on from, or null if it must read again. */
    private String watchFrom(String version) throws IOException {
        try (TunnelWatch watch = api.watch(settings.namespace(), settings.tunnel(), version)) {
            watching = watch;
            if (closed) {
                return version;
            }
            for (WatchEvent event = watch.next(); event != null; event = watch.next()) {
                switch (event.type()) {
                    case "ERROR" -> throw new ApiException(event.errorCode(), "the watch ended with an error");
                    case "ADDED", "MODIFIED" -> apply(event.tunnel());
                    case "DELETED" -> LOG.info("the ReverseTunnel was deleted; the pod goes with it");
                    default -> {
                        // BOOKMARK: only a newer version to go on from
                    }
                }
                if (event.resourceVersion() != null) {
                    version = event.resourceVersion();
                }
            }
            return version;
        } finally {
            watching = null;
        }
    }

    private static boolean warnOnce(boolean failing, Exception e) {
        if (!failing) {
            LOG.warnf("cannot follow the ReverseTunnel (%s); retrying", e.getMessage());
        } else {
            LOG.debugf("still cannot follow the ReverseTunnel: %s", e.getMessage());
        }
        return true;
    }

    private synchronized void apply(ReverseTunnel tunnel) {
        long generation = tunnel.generation();
        String acceptedKey = tunnel.getStatus() == null || tunnel.getStatus().getRelay() == null ? null
                : tunnel.getStatus().getRelay().getAcceptedHostKey();
        if (generation == appliedGeneration && Objects.equals(acceptedKey, appliedAcceptedKey)) {
            return; // a status update of the operator's: nothing for the agent
        }
        List<String> problems = SpecValidation.problems(tunnel.getSpec());
        if (!problems.isEmpty()) {
            LOG.warnf("ignoring generation %d, its spec is invalid: %s", generation, String.join("; ", problems));
            return;
        }
        Identity identity;
        try {
            identity = Identity.read(settings.identity());
        } catch (IOException e) {
            LOG.errorf("cannot read the key at %s: %s", settings.identity(), e.getMessage());
            return;
        }
        appliedGeneration = generation;
        appliedAcceptedKey = acceptedKey;
        agent.apply(new TunnelConfig(generation, tunnel.getSpec(), identity, acceptedKey));
    }

    @Override
    public void close() {
        closed = true;
        follower.interrupt();
        TunnelWatch watch = watching;
        if (watch != null) {
            try {
                watch.close();
            } catch (IOException e) {
                LOG.debugf("closing the watch: %s", e.getMessage());
            }
        }
        try {
            follower.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        agent.close(); // its last report says it stopped
        reporter.close();
    }
}
