package dev.jumpgate.operator;

import dev.jumpgate.contract.ApiServerAccess;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.quarkus.runtime.Quarkus;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * One operator reconciles at a time, however many replicas run (chart value replicas): the Java Operator SDK's
 * leader election on the Lease {@link #LEASE} in the operator's namespace. A standby keeps its informers' caches
 * warm, so the new leader reconciles as soon as it holds the Lease. Active in the prod profile only (Quarkus
 * Operator SDK's default): the tests' operators run alone.
 *
 * <p>Timings: a leader renews every {@link #RETRY} and is replaced once {@link #LEASE_DURATION} has passed without a
 * renewal (a crashed or cut-off leader: about 10 s). A leader that stops leading gives the Lease up ({@link #release};
 * the SDK's elector does not), so that its replacement takes over at its next try, within about a second or two.
 *
 * <p>Why in the elector's stop-leading callback and nowhere else: the elector runs that callback once its renewals
 * are over (both hold the elector's lock), so no renewal can put the Lease's duration back after the release. A
 * release from a shutdown observer, with the elector still running, raced its next renewal (the standby then waited
 * the full 10 s); the elector stops with the operator ({@link OperatorShutdown}). And
 * why this class exits the process itself rather than the SDK's exit-on-stop-leading: the SDK calls
 * {@code System.exit} from that callback, which during a shutdown runs on the shutdown hook's own thread and hangs
 * it until the kubelet kills the pod.
 */
@Singleton
public class OperatorLeadership extends LeaderElectionConfiguration {

    public static final String LEASE = "jumpgate-operator";
    static final Duration LEASE_DURATION = Duration.ofSeconds(10);
    static final Duration RENEW_DEADLINE = Duration.ofSeconds(7);
    static final Duration RETRY = Duration.ofSeconds(1);
    private static final Duration RELEASE_WAIT = Duration.ofSeconds(3);
    private static final Logger LOG = Logger.getLogger(OperatorLeadership.class);

    /** Set when the process begins to shut down, before the operator and its elector are stopped. */
    private static volatile boolean shuttingDown;

    public OperatorLeadership() {
        super(LEASE, namespace(), LEASE_DURATION, RENEW_DEADLINE, RETRY, identity(),
                new LeaderCallbacks(() -> { }, OperatorLeadership::stoppedLeading, leader -> { }), false);
    }

    /** The process is shutting down: the end of leadership that follows is no reason to exit. */
    static void shuttingDown() {
        shuttingDown = true;
    }

    /**
     * The elector has stopped: because the process shuts down (the operator stopped first: nothing reconciles any
     * more), then the Lease is given up for a standby; or because a renewal failed for longer than
     * {@link #RENEW_DEADLINE} (the API server out of reach, the Lease taken), then it is not: the operator still
     * reconciles until the exit stops it, and a standby must not lead before that. A leader that lost the Lease while
     * running exits, as with the SDK's own setting: the elector cannot start again, and the Deployment's restart
     * brings the process back as a standby.
     */
    private static void stoppedLeading() {
        if (shuttingDown) {
            release();
        } else {
            LOG.warn("this operator lost its Lease while running: exiting, to come back as a standby");
            Quarkus.asyncExit(1);
        }
    }

    /** The chart passes the pod's namespace; elsewhere the client's. */
    private static String namespace() {
        String namespace = System.getenv("JUMPGATE_OPERATOR_NAMESPACE");
        return namespace == null || namespace.isBlank() ? null : namespace;
    }

    /** The pod's name, which is its host name: who holds the Lease, as kubectl shows it. */
    private static String identity() {
        String host = System.getenv("HOSTNAME");
        return host == null || host.isBlank() ? null : host;
    }

    /**
     * Gives up the Lease if this process holds it still: its duration becomes one second, so that a standby takes over
     * at its next try rather than after {@link #LEASE_DURATION}. One JSON patch whose first operation tests that the
     * holder is this process: a Lease someone else has taken meanwhile is left alone. On the JDK's HTTP client with
     * the pod's service account, not the operator's Kubernetes client, which may be shutting down when this runs.
     */
    private static void release() {
        String me = identity();
        String namespace = namespace();
        if (me == null || namespace == null || System.getenv("KUBERNETES_SERVICE_HOST") == null) {
            return; // not in a pod the chart made
        }
        try {
            ApiServerAccess access = ApiServerAccess.inCluster();
            HttpClient http = HttpClient.newBuilder().sslContext(access.tls()).connectTimeout(Duration.ofSeconds(2)).build();
            String patch = "[{\"op\":\"test\",\"path\":\"/spec/holderIdentity\",\"value\":\"" + me + "\"},"
                    + "{\"op\":\"replace\",\"path\":\"/spec/leaseDurationSeconds\",\"value\":1}]";
            HttpRequest.Builder request = HttpRequest.newBuilder(access.server().resolve(
                    "/apis/coordination.k8s.io/v1/namespaces/" + namespace + "/leases/" + LEASE))
                    .timeout(RELEASE_WAIT).header("Content-Type", "application/json-patch+json")
                    .method("PATCH", HttpRequest.BodyPublishers.ofString(patch));
            access.headers().get().forEach(request::header);
            int status = http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status == 200) {
                LOG.infof("gave up the operator's Lease %s/%s for a standby to take over", namespace, LEASE);
            } else if (status != 422) { // 422: the test failed, the Lease is someone else's already
                LOG.warnf("could not give up the operator's Lease (HTTP %d): a standby takes over when it expires", status);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warnf("could not give up the operator's Lease (%s): a standby takes over when it expires", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
