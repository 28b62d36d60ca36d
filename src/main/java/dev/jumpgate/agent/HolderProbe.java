package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import java.util.function.BooleanSupplier;
import org.jboss.logging.Logger;

/**
 * A standby pod's look at the relay, for {@link AgentLeadership}: when the Lease's holder has missed a renewal,
 * whether it still holds its first member's listen. A process that dies (killed, OOM) has its connections closed by
 * the kernel, and sshd frees its listens at once, while its Lease runs on for seconds; a listen the standby can take
 * is one the holder no longer serves, so the standby need not wait the Lease out. It binds that listen and gives it
 * back at once (a connection arriving in between is served, through this session, like any other).
 *
 * <p>The session is the standby's warm-up login, kept open while it stands by (one idle session on one relay per
 * standby pod), so that the look is one request, not a login. A member whose forwards all ask the relay to pick a
 * port (0) has no listen to look at: no probe, the Lease decides. Never throws: a failed look is "still held".
 */
public final class HolderProbe implements BooleanSupplier, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(HolderProbe.class);

    private final AgentRuntime runtime;
    private final KubernetesApi api;
    private final PoolAgent.Settings settings;
    private RelaySession session;
    private ForwardSpec listen;
    /** This pod serves (closed since its last look): a warm-up that ends now logs out at once. */
    private boolean retired;

    public HolderProbe(AgentRuntime runtime, KubernetesApi api, PoolAgent.Settings settings) {
        this.runtime = runtime;
        this.api = api;
        this.settings = settings;
    }

    /**
     * Logs in to the first member's relay and stays: the process has run the SSH path (its classes, the JDK's crypto,
     * the JIT's first tiers) before it must take over, which on a busy node is most of a takeover; and the probe has
     * its session. Best effort: a failure is logged, and the probe logs in when it must.
     */
    public synchronized void warmUp() {
        long started = System.nanoTime();
        try {
            if (retired) {
                return; // it took over before the warm-up began
            }
            open();
            if (session != null) {
                LOG.infof("warmed up for a takeover: logged in to the first member's relay in %d ms, kept to watch "
                        + "the serving pod's listen", (System.nanoTime() - started) / 1_000_000);
            }
        } catch (Exception e) {
            LOG.infof("no warm-up for a takeover (%s): the first login will be slower", e.getMessage());
        }
    }

    /** Whether the holder's first listen is free on the relay (taken here and given back at once). */
    @Override
    public synchronized boolean getAsBoolean() {
        retired = false; // standing by (again)
        try {
            if (session == null || !session.isConnected()) {
                logOut();
                open();
            }
            if (session == null || listen == null) {
                return false;
            }
            int port = session.bind(listen, new ForwardTraffic());
            session.cancel(listen, port);
            LOG.infof("the relay let the serving pod's listen %s go", listen.getRemote().getBindAddress() + ":" + port);
            close(); // it takes over: the tunnels' own sessions serve from here
            return true;
        } catch (ForwardRefused held) {
            return false;
        } catch (Exception e) {
            LOG.debugf("no look at the relay: %s", e.getMessage());
            logOut();
            return false;
        }
    }

    private void open() throws Exception {
        TunnelConfig tunnel = PoolAgent.firstMember(api, settings);
        if (tunnel == null) {
            return;
        }
        listen = tunnel.spec().getForwards().stream().filter(f -> f.getRemote().getPort() != 0).findFirst()
                .orElse(null);
        session = runtime.relayConnector().open(tunnel, tunnel.hostKeyPins(null), () -> { });
    }

    /** Logs out: this pod serves now (its tunnels have sessions of their own), or stops. */
    @Override
    public synchronized void close() {
        retired = true;
        logOut();
    }

    private void logOut() {
        if (session != null) {
            session.close();
            session = null;
        }
    }
}
