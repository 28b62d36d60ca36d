package dev.jumpgate.operator.status;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.net.HttpURLConnection;
import org.jboss.logging.Logger;

/**
 * The one write of a tunnel's status: a JSON patch of what changed, not the SDK's server-side apply of the whole
 * status. The operator is the status's only writer (one leader; agents write their Leases), so field ownership buys
 * nothing, and an apply costs the API server a structured merge of the whole status and its managedFields at each
 * write, the largest share of its CPU when thousands of tunnels come at once (BENCHMARKS.md, "Control plane").
 * <p>
 * The patch carries the resourceVersion the status was made from. The SDK's resource operations keep its cache in
 * step with the answer and hold back the events that arrive while the patch is in flight, passing on only one newer
 * than the patch's own; a user's edit committed just before an unversioned patch would be older than it, and
 * dropped: the edit never reconciled (a pool move left undone, seen in CI). With the version, that patch is refused
 * (409) instead, the held-back edit's event goes on, and its reconcile writes a status for the new spec.
 */
public final class StatusPatch {

    private static final Logger LOG = Logger.getLogger(StatusPatch.class);

    private StatusPatch() {
    }

    /**
     * Writes {@code status} over the status of the {@code tunnel} as read; false when the tunnel changed on the
     * API server since (nothing written: the change's own reconcile follows).
     */
    public static boolean write(ReverseTunnel tunnel, ReverseTunnelStatus status, Context<ReverseTunnel> context) {
        try {
            context.resourceOperations().jsonPatchPrimaryStatus(tunnel, edited -> {
                edited.setStatus(status);
                return edited;
            });
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
            LOG.debugf("tunnel %s/%s changed while its status was written: its next reconcile writes it",
                    tunnel.getMetadata().getNamespace(), tunnel.getMetadata().getName());
            return false;
        }
    }
}
