package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.FallbackSession;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.HopState;
import dev.jumpgate.api.v1alpha1.JumpHost;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReconnectSpec;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.CheckReport;
import dev.jumpgate.report.ForwardReport;
import dev.jumpgate.report.HopReport;
import dev.jumpgate.report.ReportText;
import dev.jumpgate.ssh.PublicKeyLine;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.jboss.logging.Logger;

/**
 * Keeps one tunnel true: a session to the relay and every forward of the applied config bound on it. One thread
 * does all of it, so the state needs no locks; {@link #apply} and {@link #close} only hand it work.
 *
 * <p>A changed forward list is applied on the live session (forwards added, cancelled, rebound one by one, so open
 * connections through the unchanged ones keep flowing); only a change of relay, host key rules, key or keepalive
 * opens a new session. Every change of what the agent sees is handed to the report listener.
 *
 * <p>sshd reads a key's authorized_keys options once, at login: a forward added to the spec after the relay owner
 * installed the key's line is refused on the live session even once the relay has the new line. A forward refused
 * twice is therefore tried on a fresh side session, which logs in again and sees the relay's line as it is now; the
 * forward lives there, and the forwards on the first session are not touched. Any new session brings them together.
 *
 * <p>Once per session the agent checks that its key can neither run commands on the relay nor open connections where
 * its line permits none ({@link KeyRestrictionCheck}):
 * a key line pasted without its options is a shell for whoever holds the key, and the report says so.
 *
 * <p>Every bound forward is checked end to end every spec.check.intervalSeconds, beside the loop ({@link EndToEndCheck}):
 * a connection made on the relay to the forward's listen must come back through this agent to the target. The
 * check's verdict becomes the forward's reason in reports; a forward is reachable only while its last check passed.
 *
 * <p>The agent knows the relay only through {@link RelayConnector} and {@link RelaySession}: what SSH library holds
 * the session, and how a forwarded connection's bytes reach the target, is behind them.
 */
public final class TunnelAgent implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TunnelAgent.class);
    /** How often a quiet agent looks at its session: a RelaySession tells that it ended only when asked. */
    private static final Duration LIVENESS_POLL = Duration.ofMillis(200);
    /**
     * While the relay's host refuses connections (its sshd is down), a TCP probe this often tells when it is back,
     * so the next SSH attempt need not wait out the backoff. A refused connect is one packet each way; SSH attempts
     * themselves still follow the backoff, so a relay that accepts TCP but fails SSH is never hammered.
     */
    private static final Duration REFUSED_PROBE = Duration.ofMillis(250);
    /**
     * A listen the relay refuses on a fresh session although this agent held it (its session was lost), or its agent
     * pod just took the tunnels over from a pod that did not let go, is most likely still held by that older session:
     * sshd frees it only when it finds the session dead (ClientAliveInterval x ClientAliveCountMax, or at once for a
     * closed connection). It is asked for again this often (one global request, no login), so that it is taken as
     * soon as the relay lets go, for {@link #HELD_LISTEN_PATIENCE} from its first refusal; then with the backoff.
     */
    static final Duration HELD_LISTEN_RETRY = Duration.ofMillis(500);
    static final Duration HELD_LISTEN_PATIENCE = Duration.ofMinutes(2);
    /** How often reports may carry a new count of connections refused at a forward's cap. */
    private static final Duration REFUSED_REPORT_PERIOD = Duration.ofSeconds(30);
    /** A session up this long has proved the relay healthy: the next failure backs off from the minimum again. */
    private static final Duration STABLE = Duration.ofSeconds(10);
    /**
     * Before a failback login, whether the preferred relay (or its proxy or first hop) accepts a TCP connection this
     * soon: one that is still down costs the loop this much, not a login's timeout.
     */
    private static final Duration FAILBACK_PROBE = Duration.ofSeconds(1);
    /**
     * How long a relay the agent left keeps its session for the connections still open through it: they end on
     * their own almost always; one that never does must not hold a session for good.
     */
    private static final Duration DRAIN_LIMIT = Duration.ofHours(1);

    private final Consumer<AgentReport> listener;
    private final RelayConnector relay;
    private final Clock clock;
    private final RandomGenerator random;
    private final Object signal = new Object();
    private final Thread thread;
    private final Map<String, ForwardTraffic> traffic = new ConcurrentHashMap<>();
    private final ConnectionBudget budget;

    private volatile TunnelConfig desired;
    private volatile boolean running = true;
    private volatile AgentReport report;
    private boolean changed;

    // State below belongs to the agent thread.
    private RelaySession session;
    /** Sessions opened for forwards the first one was refused, each holding at least one of them. */
    private final List<RelaySession> sideSessions = new ArrayList<>();
    /** Whether the relay holds the key to its line: once per session, beside the loop. */
    private final KeyRestrictionCheck keyCheck = new KeyRestrictionCheck(this::wake);
    /**
     * The listens the relays have granted this agent ({@link #boundKey}: the relay and the address:port asked for),
     * and when last: a refusal of one of them is a busy port.
     */
    private final Map<String, Instant> everBound = new HashMap<>();
    /** This process's asks for held listens, spread out together ({@link HeldListenAsks}). */
    private final HeldListenAsks heldAsks;
    /** Whether this agent's pod took its tunnels over from a pod that did not let go (and when, to the runtime). */
    private final BooleanSupplier inheritedListens;
    /** Per forward, the count of connections refused at its cap that reports show, and since when. */
    private final Map<String, RefusedShown> refusedShown = new LinkedHashMap<>();
    /**
     * The config of the latest attempt, and so of the session when there is one: a change of relay, key or
     * keepalive opens a new session at once.
     */
    private TunnelConfig attemptedConfig;
    private Instant connectedAt;
    private Backoff connectBackoff;
    private ReconnectSpec backoffFor;
    private Instant nextConnectAttempt = Instant.MIN;
    private boolean relayRefused;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private String reason = Reasons.CONNECTING;
    private String message = "connecting to the relay";
    private String lastError;
    private PublicKeyLine hostKeySeen;
    private String relayVersion;
    private List<HopReport> hopsSeen = List.of();
    /**
     * With fallback relays: the index in {@code spec.relays()} of the relay the session is on, or of the one the next
     * attempt goes to. 0, the preferred relay, for a tunnel with one.
     */
    private int active;
    /** The desired config as applied on the active relay ({@link TunnelConfig#onRelay}), and what it was made of. */
    private TunnelConfig onActive;
    private TunnelConfig onActiveOf;
    private int onActiveIndex;
    /** Why the active relay is not the preferred one, for a person; null on the preferred relay. */
    private String failover;
    /** While on a fallback relay: why the last try of the preferred ones did not move the tunnel back. */
    private String failbackNote;
    private Instant nextFailback = Instant.MAX;
    /** Whether the last session lost lasted less than {@link #STABLE}: the next quick loss waits a backoff. */
    private boolean lostQuickly;
    /**
     * With fallbackSession Standby, while the preferred relay holds the tunnel: a session to the first fallback relay,
     * logged in and idle, that takes the tunnel without a login when the preferred relay is lost. The config it was
     * opened for, when the next try is due, and why the last one failed.
     */
    private RelaySession standby;
    private TunnelConfig standbyOf;
    /**
     * Logins beside the tunnel (a try of the preferred relays, the standby session) run off the agent's thread: a
     * relay that accepts TCP but stalls SSH would otherwise hold the loop, and with it the tunnel's own failover, for a
     * login's timeout. Their outcome is taken up on the agent's thread, if it still fits.
     */
    private final Consumer<Runnable> beside;
    private CompletableFuture<FailbackTry> failbackTry;
    private CompletableFuture<RelaySession> standbyTry;
    private Instant nextStandbyAttempt = Instant.MIN;
    private String standbyNote;
    /** Sessions on relays the agent left, their forwards cancelled, kept while connections through them are open. */
    private final Map<RelaySession, Instant> draining = new LinkedHashMap<>();
    private String acceptedHostKey;
    private int reconnects;
    private boolean everConnected;

    /** An agent alone in its JVM, on JSch: its forwarded connections take all the windows and places its memory allows. */
    public TunnelAgent(Consumer<AgentReport> listener) {
        this(listener, ConnectionBudget.ofThisJvm(), WindowBudget.ofThisJvm(), () -> false, new HeldListenAsks());
    }

    /**
     * An agent on JSch among others in one JVM (a pool): all their forwarded connections share the process's
     * connection places and receive windows, each forward promised its part, and its asks for held listens
     * ({@code asks}); {@code inheritedListens}: whether its pod just took the tunnels over from one that did not let go.
     */
    TunnelAgent(Consumer<AgentReport> listener, ConnectionBudget budget, WindowBudget windows,
            BooleanSupplier inheritedListens, HeldListenAsks asks) {
        this(listener, JschRelaySession.connector(windows), Clock.systemUTC(), RandomGenerator.getDefault(), budget,
                task -> SshThreads.start("jumpgate-login-beside", task), inheritedListens, asks);
    }

    /** For tests: the loop on the test's thread and clock; logins beside the tunnel run at once, on that thread. */
    TunnelAgent(Consumer<AgentReport> listener, RelayConnector relay, Clock clock, RandomGenerator random) {
        this(listener, relay, clock, random, () -> false);
    }

    /** For tests, as above, in a pod that took its tunnels over while {@code inheritedListens} says so. */
    TunnelAgent(Consumer<AgentReport> listener, RelayConnector relay, Clock clock, RandomGenerator random,
            BooleanSupplier inheritedListens) {
        this(listener, relay, clock, random, ConnectionBudget.ofThisJvm(), Runnable::run, inheritedListens,
                new HeldListenAsks());
    }

    private TunnelAgent(Consumer<AgentReport> listener, RelayConnector relay, Clock clock, RandomGenerator random,
            ConnectionBudget budget, Consumer<Runnable> beside, BooleanSupplier inheritedListens,
            HeldListenAsks heldAsks) {
        this.inheritedListens = inheritedListens;
        this.heldAsks = heldAsks;
        this.beside = beside;
        this.budget = budget;
        this.listener = listener;
        this.relay = relay;
        this.clock = clock;
        this.random = random;
        this.thread = new Thread(this::run, "jumpgate-agent");
        this.thread.setDaemon(true);
    }

    /** Starts holding the tunnel of the first config applied. */
    public TunnelAgent start() {
        LOG.infof("connections through forwards run on %s threads (Java %d); all forwards together hold at most %d",
                SshThreads.virtual() ? "virtual" : "platform", Runtime.version().feature(), budget.max());
        thread.start();
        return this;
    }

    private void wake() {
        synchronized (signal) {
            changed = true;
            signal.notifyAll();
        }
    }

    /** Hands the agent a new config; it is applied within moments, on the live session where it can be. */
    public void apply(TunnelConfig config) {
        desired = config;
        wake();
    }

    /** Whether the agent's loop is alive: false only after {@link #close} or a fatal error. */
    public boolean isRunning() {
        return thread.isAlive();
    }

    /** The latest report; null until the first config is applied. */
    public AgentReport report() {
        return report;
    }

    /** Counters per forward name, kept across sessions and config changes. */
    public Map<String, ForwardTraffic> traffic() {
        return traffic;
    }

    /** Cancels the forwards, closes the session and stops. */
    @Override
    public void close() {
        running = false;
        synchronized (signal) {
            signal.notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (running) {
            await(runOnce());
        }
        shutdown();
    }

    /**
     * One pass of the agent's loop: looks at the session, connects or reconnects when it is time, brings the forwards
     * in line with the config, and reports what changed. Returns how long the loop may wait before the next pass.
     * Package-private so that tests can drive the loop on their own thread and clock, on an agent never started.
     */
    Duration runOnce() {
        if (thread.isAlive() && Thread.currentThread() != thread) {
            throw new IllegalStateException("the agent's own thread runs its loop");
        }
        Duration wait;
        try {
            wait = step();
        } catch (RuntimeException e) {
            // A bug must not kill the tunnel for good: report it as what it is and start over with a fresh session.
            LOG.error("unexpected failure, reconnecting", e);
            dropSession();
            fail(Reasons.AGENT_FAILED, "unexpected failure in the agent: " + ReportText.bounded(e.toString(),
                    ReportText.MAX_RELAY_TEXT), connectBackoff().cap());
            wait = LIVENESS_POLL;
        }
        publish();
        return wait;
    }

    private Duration step() {
        TunnelConfig config = desired;
        if (config == null) {
            return Duration.ofSeconds(1);
        }
        Instant now = clock.instant();
        if (active >= config.relayCount()) {
            // The fallback relay in use, or next in line, left the spec: the preferred relay now.
            LOG.info("the fallback relay in use left the spec: " + (session != null ? "reconnecting" : "connecting now"));
            if (session != null) {
                dropSession();
            }
            active = 0;
            failover = null;
            failbackNote = null;
            nextConnectAttempt = now;
        }
        if (session != null && !session.isConnected()) {
            lastError = "the connection to the relay " + onActive(config).spec().getRelay().where() + " was lost";
            Duration up = Duration.between(connectedAt, now);
            LOG.warnf("relay connection lost after %s", up);
            dropSession();
            reason = Reasons.RELAY_UNREACHABLE;
            if (config.relayCount() > 1) {
                // Another relay is at hand: try it at once, the lost one may be gone for good. Once per stable
                // session: a second loss before a session lasted STABLE waits the backoff, so that relays that each
                // let the agent in and drop it are no hot loop.
                failOver(config, lastError);
                boolean lostQuicklyAgain = up.compareTo(STABLE) < 0 && lostQuickly;
                lostQuickly = up.compareTo(STABLE) < 0;
                nextConnectAttempt = lostQuicklyAgain ? now.plus(connectBackoff().next()) : now;
                message = lastError + "; moving to " + onActive(config).spec().getRelay().where();
            } else {
                nextConnectAttempt = now.plus(connectBackoff().next());
                message = lastError + "; reconnecting";
            }
        }
        if (attemptedConfig != null && !attemptedConfig.sameConnectionAs(config, active)) {
            // Whether a session is up or the last attempt failed: the changed config is tried now, not after a backoff.
            LOG.info("relay, key or keepalive changed: " + (session != null ? "reconnecting" : "connecting now"));
            if (session != null) {
                dropSession();
            }
            connectBackoff = null;
            nextConnectAttempt = now;
        }
        tidyStandby(config);
        if (session == null && active == 1 && standby != null) {
            adoptStandby(config, now);
        }
        if (session == null) {
            if (now.isBefore(nextConnectAttempt) && relayRefused
                    && relay.accepts(onActive(config).spec().getRelay(), (int) REFUSED_PROBE.toMillis())) {
                LOG.debug("the relay accepts connections again");
                nextConnectAttempt = now;
            }
            if (now.isBefore(nextConnectAttempt) || !connect(config)) {
                return untilNextConnectAttempt(clock.instant());
            }
        }
        if (connectedAt != null && Duration.between(connectedAt, now).compareTo(STABLE) >= 0) {
            connectBackoff().reset();
            lostQuickly = false;
        }
        Duration wait = reconcileForwards(config, now);
        keyCheck.startOnce(session);
        openStandbyIfDue(config, now);
        takeStandbyTry(config);
        takeFailbackTry(config);
        if (active > 0 && !now.isBefore(nextFailback)) {
            failBack(config);
            nextFailback = clock.instant().plusSeconds(config.spec().getReconnect().getFailbackSeconds());
        }
        tidyDraining(clock.instant());
        return wait;
    }

    private static boolean wantsStandby(TunnelConfig config) {
        return config.relayCount() > 1 && config.spec().getFallbackSession() == FallbackSession.Standby;
    }

    /** Lets go of a standby session that was lost, or that the config no longer wants as it is (relay, key, mode). */
    private void tidyStandby(TunnelConfig config) {
        if (standby == null) {
            return;
        }
        if (standby.isConnected() && wantsStandby(config) && standbyOf.sameConnectionAs(config, 1)) {
            standbyOf = config; // the same objects from now on: the next pass compares nothing
            return;
        }
        boolean lost = !standby.isConnected();
        LOG.info(lost ? "the standby session to the fallback relay was lost"
                : "the standby session is not wanted as it is: closing it");
        standby.close();
        standby = null;
        // A lost one is tried again after failbackSeconds, as the relays the tunnel left are; a changed one at once.
        nextStandbyAttempt = lost ? clock.instant().plusSeconds(config.spec().getReconnect().getFailbackSeconds())
                : Instant.MIN;
        standbyNote = lost ? "the standby session was lost" : null;
        if (Reasons.CONNECTED.equals(reason)) {
            message = connectedMessage();
        }
    }

    /**
     * While the preferred relay holds the tunnel, with fallbackSession Standby: logs in to the first fallback relay,
     * at most every failbackSeconds (a fallback that is down costs a TCP probe, not a login's timeout).
     */
    private void openStandbyIfDue(TunnelConfig config, Instant now) {
        if (standby != null || standbyTry != null || active != 0 || session == null || !wantsStandby(config)
                || now.isBefore(nextStandbyAttempt)) {
            return;
        }
        nextStandbyAttempt = now.plusSeconds(config.spec().getReconnect().getFailbackSeconds());
        TunnelConfig view = config.onRelay(1);
        String where = view.spec().getRelay().where();
        List<String> pins = view.hostKeyPins(acceptedHostKey);
        CompletableFuture<RelaySession> attempt = new CompletableFuture<>();
        standbyTry = attempt;
        beside.accept(() -> {
            try {
                if (!relay.accepts(view.spec().getRelay(), (int) FAILBACK_PROBE.toMillis())) {
                    throw new RelayFailure(Reasons.RELAY_UNREACHABLE, where + " does not accept connections", true, null);
                }
                attempt.complete(relay.open(view, pins, this::wake));
            } catch (RelayFailure | RuntimeException f) {
                attempt.completeExceptionally(f);
            } finally {
                wake();
            }
        });
    }

    /** The standby login's outcome, once it has one: the session, if the tunnel still wants it as it is. */
    private void takeStandbyTry(TunnelConfig config) {
        if (standbyTry == null || !standbyTry.isDone()) {
            return;
        }
        CompletableFuture<RelaySession> done = standbyTry;
        standbyTry = null;
        String where = config.relayCount() > 1 ? config.onRelay(1).spec().getRelay().where() : "the fallback relay";
        try {
            RelaySession opened = done.join();
            if (standby != null || active != 0 || session == null || !wantsStandby(config)) {
                opened.close(); // the tunnel moved on while it logged in
                return;
            }
            standby = opened;
            standbyOf = config;
            standbyNote = null;
            LOG.infof("standby session to %s: a failover there needs no login", where);
        } catch (CompletionException e) {
            standbyNote = "no standby session: " + where + ": " + e.getCause().getMessage();
            LOG.warnf("no standby session to %s: %s", where, e.getCause().getMessage());
        }
        if (Reasons.CONNECTED.equals(reason)) {
            message = connectedMessage();
        }
    }

    /** The preferred relay was lost; the standby session to the first fallback takes the tunnel, no login needed. */
    private void adoptStandby(TunnelConfig config, Instant now) {
        hold(standby, config, now);
        standby = null;
        reconnects++;
        relayRefused = false;
        reason = Reasons.CONNECTED;
        nextFailback = now.plusSeconds(config.spec().getReconnect().getFailbackSeconds());
        message = connectedMessage();
        LOG.infof("the standby session to %s holds the tunnel now", onActive(config).spec().getRelay().where());
    }

    /** What the report says while connected: the relay, which of the spec's it is, and the standby's state. */
    private String connectedMessage() {
        TunnelConfig config = desired;
        String text = "connected to " + describe(onActive(config)) + (active > 0 ? " (fallback relay " + active + ")" : "");
        if (active == 0 && wantsStandby(config)) {
            text += standby != null ? "; standby session on " + config.onRelay(1).spec().getRelay().where()
                    : standbyNote != null ? "; " + standbyNote : "";
        }
        return text;
    }

    /** The desired config on the active relay; made again only when either changes. */
    private TunnelConfig onActive(TunnelConfig config) {
        if (onActive == null || onActiveOf != config || onActiveIndex != active) {
            onActive = config.onRelay(active);
            onActiveOf = config;
            onActiveIndex = active;
        }
        return onActive;
    }

    /**
     * The active relay failed: the next one of the spec becomes active, or the preferred one after the last. Nothing
     * learnt of the relay left (that it refused connections) is carried to the next.
     */
    private void failOver(TunnelConfig config, String why) {
        String left = onActive(config).spec().getRelay().where();
        active = (active + 1) % config.relayCount();
        relayRefused = false;
        failbackNote = null;
        // Every relay tried since the preferred one failed, and why: at most relayCount entries.
        failover = active == 0 ? null : (failover != null && active > 1 ? failover + "; " : "") + left + ": " + why;
        if (active > 0) {
            LOG.infof("moving the tunnel to the fallback relay %s (%s)", onActive(config).spec().getRelay().where(), why);
        }
    }

    /**
     * While on a fallback relay: tries the relays the spec prefers to it, in order, and moves the tunnel to the first
     * that takes every forward bound now. Make before break: the preferred relay listens before the fallback stops
     * listening, and connections open through the fallback stay open ({@link #draining}). A preferred relay that logs
     * in but refuses a forward is left, and why is shown.
     */
    private void failBack(TunnelConfig config) {
        if (failbackTry != null) {
            return;
        }
        int from = active;
        List<ForwardSpec> bound = slots.values().stream().filter(slot -> slot.state == ForwardState.Bound)
                .map(slot -> slot.spec).toList();
        List<TunnelConfig> views = new ArrayList<>();
        List<List<String>> pins = new ArrayList<>();
        for (int preferred = 0; preferred < from; preferred++) {
            views.add(config.onRelay(preferred));
            pins.add(views.get(preferred).hostKeyPins(acceptedHostKey));
        }
        CompletableFuture<FailbackTry> attempt = new CompletableFuture<>();
        failbackTry = attempt;
        beside.accept(() -> {
            try {
                attempt.complete(tryPreferred(config, views, pins, bound, from));
            } catch (RuntimeException bug) {
                attempt.completeExceptionally(bug);
            } finally {
                wake();
            }
        });
        takeFailbackTry(config);
    }

    /** What a try of the preferred relays found: the session it opened there with the forwards bound, or why not. */
    private record FailbackTry(TunnelConfig of, int relay, RelaySession candidate, List<ForwardSpec> bound,
            Map<String, Integer> ports, int from, String note) {
    }

    /** Off the agent's thread: the preferred relays in order, the first that logs in and takes every bound forward. */
    private FailbackTry tryPreferred(TunnelConfig config, List<TunnelConfig> views, List<List<String>> pins,
            List<ForwardSpec> bound, int from) {
        String note = null;
        for (int preferred = 0; preferred < views.size(); preferred++) {
            TunnelConfig view = views.get(preferred);
            String where = view.spec().getRelay().where();
            if (!relay.accepts(view.spec().getRelay(), (int) FAILBACK_PROBE.toMillis())) {
                note = "the preferred relay " + where + " does not accept connections yet";
                continue;
            }
            RelaySession candidate;
            try {
                candidate = relay.open(view, pins.get(preferred), this::wake);
            } catch (RelayFailure f) {
                note = "the preferred relay " + where + " still fails: " + f.getMessage();
                LOG.debugf("the preferred relay %s cannot take the tunnel back: %s", where, f.getMessage());
                continue;
            }
            Map<String, Integer> ports = new LinkedHashMap<>();
            try {
                for (ForwardSpec spec : bound) {
                    ports.put(spec.getName(), candidate.bind(spec, traffic.get(spec.getName())));
                }
            } catch (RuntimeException bug) {
                candidate.close(); // never left listening beside the relay in use
                throw bug;
            } catch (ForwardRefused refused) {
                candidate.close();
                note = "the preferred relay " + where + " is back but refuses a forward: " + refused.getMessage();
                LOG.warnf("staying where the tunnel is: the preferred relay %s refuses a forward (%s)", where,
                        refused.getMessage());
                continue;
            }
            return new FailbackTry(config, preferred, candidate, bound, ports, from, null);
        }
        return new FailbackTry(config, -1, null, bound, Map.of(), from, note);
    }

    /**
     * A try of the preferred relays, once it has an outcome: the tunnel moves there if it is still on the relay the
     * try started from and that session is up; otherwise the session the try opened is closed.
     */
    private void takeFailbackTry(TunnelConfig config) {
        if (failbackTry == null || !failbackTry.isDone()) {
            return;
        }
        CompletableFuture<FailbackTry> done = failbackTry;
        failbackTry = null;
        FailbackTry outcome;
        try {
            outcome = done.join();
        } catch (CompletionException e) {
            LOG.error("unexpected failure trying the preferred relays", e.getCause());
            return;
        }
        if (outcome.candidate() == null) {
            failbackNote = outcome.note();
            return;
        }
        if (outcome.from() != active || session == null || !session.isConnected()
                || !config.sameConnectionAs(outcome.of(), outcome.relay())) {
            outcome.candidate().close(); // the tunnel moved, or the spec did, while it logged in
            return;
        }
        Map<String, Integer> ports = new LinkedHashMap<>(outcome.ports());
        for (ForwardSpec taken : outcome.bound()) {
            if (!config.forwards().contains(taken)) {
                // A forward the spec dropped or changed while the try logged in: not left listening there.
                outcome.candidate().cancel(taken, ports.remove(taken.getName()));
            }
        }
        moveTo(config, outcome.relay(), outcome.candidate(), ports);
    }

    /** Makes {@code candidate}, whose forwards are bound already, the session; the old one drains. */
    private void moveTo(TunnelConfig config, int index, RelaySession candidate, Map<String, Integer> ports) {
        String left = onActive(config).spec().getRelay().where();
        slots.values().stream().filter(slot -> slot.state == ForwardState.Bound)
                .forEach(slot -> slot.host.cancel(slot.spec, slot.remotePort));
        Instant now = clock.instant();
        if (index == 0 && active == 1 && standby == null && wantsStandby(config)) {
            // Back on the preferred relay: the session left on the first fallback is the standby from now on, its
            // open connections untouched; the next failover binds on it again.
            standby = session;
            standbyOf = config;
        } else {
            draining.put(session, now);
        }
        sideSessions.forEach(side -> draining.put(side, now));
        sideSessions.clear();
        keyCheck.sessionEnded();
        slots.clear();
        active = index;
        TunnelConfig view = onActive(config);
        hold(candidate, config, now); // the preferred relay may be met first by moving back to it
        failbackNote = null;
        failover = index == 0 ? null : failover;
        nextFailback = index == 0 ? Instant.MAX : nextFailback;
        for (ForwardSpec spec : config.forwards()) {
            Integer port = ports.get(spec.getName());
            Slot slot = new Slot(spec, config);
            if (port != null) {
                slot.boundOn(candidate, port);
            }
            slots.put(spec.getName(), slot);
        }
        message = connectedMessage() + (index == 0 ? ", back on the preferred relay" : "");
        LOG.infof("the tunnel moved back from %s to %s: %d forwards listen there", left,
                view.spec().getRelay().where(), ports.size());
    }

    /** Closes the left relays' sessions whose connections have all ended (or lasted {@link #DRAIN_LIMIT}). */
    private void tidyDraining(Instant now) {
        for (Iterator<Map.Entry<RelaySession, Instant>> it = draining.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<RelaySession, Instant> left = it.next();
            if (!left.getKey().isConnected() || left.getKey().openConnections() == 0
                    || !now.isBefore(left.getValue().plus(DRAIN_LIMIT))) {
                left.getKey().close();
                it.remove();
            }
        }
    }

    /**
     * {@code opened}, on the active relay, is the tunnel's session from now on: what it tells of the relay is what
     * reports show, and on a relay trusted on first use, its key is the one required from then on.
     */
    private void hold(RelaySession opened, TunnelConfig config, Instant now) {
        session = opened;
        attemptedConfig = config;
        connectedAt = now;
        hostKeySeen = opened.hostKey();
        relayVersion = opened.serverVersion();
        hopsSeen = opened.hops();
        if (onActive(config).trustsFirstUse() && acceptedHostKey == null && config.acceptedHostKey() == null) {
            acceptedHostKey = hostKeySeen.toKeyString();
            LOG.infof("trusting the relay's host key on first use: %s", hostKeySeen.fingerprint());
        }
    }

    /** Until the backoff allows the next SSH attempt; no longer than the next probe while the relay refuses. */
    private Duration untilNextConnectAttempt(Instant now) {
        Duration wait = now.isBefore(nextConnectAttempt) ? Duration.between(now, nextConnectAttempt) : Duration.ZERO;
        // Jittered: agents that lost one relay together must not all find it back, and log in, at the same instant.
        Duration probe = Backoff.spread(REFUSED_PROBE, random);
        return relayRefused && wait.compareTo(probe) > 0 ? probe : wait;
    }

    private boolean connect(TunnelConfig config) {
        attemptedConfig = config;
        TunnelConfig view = onActive(config);
        try {
            RelaySession opened = relay.open(view, view.hostKeyPins(acceptedHostKey), this::wake);
            hold(opened, config, clock.instant());
            if (everConnected) {
                reconnects++;
            }
            everConnected = true;
            relayRefused = false;
            reason = Reasons.CONNECTED;
            message = connectedMessage();
            nextFailback = active > 0 ? connectedAt.plusSeconds(config.spec().getReconnect().getFailbackSeconds())
                    : Instant.MAX;
            LOG.infof("connected to %s, %s", describe(view), opened.hostKey() == null
                    ? "host certificate from a trusted host CA" : "host key " + opened.hostKey().fingerprint());
            return true;
        } catch (RelayFailure f) {
            if (f.hostKeySeen() != null) {
                hostKeySeen = f.hostKeySeen();
            }
            relayRefused = f.refused();
            hopsSeen = f.hops();
            fail(f.reason(), f.getMessage(), f.retryingSoonHelps() ? connectBackoff().next() : connectBackoff().cap());
            if (config.relayCount() > 1) {
                failOver(config, f.getMessage());
                if (active > 0) {
                    nextConnectAttempt = clock.instant(); // the next relay at once; a full round backs off
                }
            }
            return false;
        }
    }

    private void fail(String failureReason, String failureMessage, Duration wait) {
        if (!Objects.equals(lastError, failureMessage)) {
            LOG.warnf("%s: %s (retrying in %d ms)", failureReason, failureMessage, wait.toMillis());
        }
        reason = failureReason;
        message = failureMessage;
        lastError = failureMessage;
        nextConnectAttempt = clock.instant().plus(wait);
    }

    private Duration reconcileForwards(TunnelConfig config, Instant now) {
        Map<String, ForwardSpec> wanted = new LinkedHashMap<>();
        config.forwards().forEach(f -> wanted.put(f.getName(), f));

        for (Iterator<Slot> it = slots.values().iterator(); it.hasNext(); ) {
            Slot slot = it.next();
            if (!slot.spec.equals(wanted.get(slot.spec.getName()))) {
                if (slot.state == ForwardState.Bound) {
                    slot.host.cancel(slot.spec, slot.remotePort);
                    LOG.infof("forward %s cancelled", slot.spec);
                }
                it.remove();
            }
        }
        tidySideSessions();

        Duration wait = LIVENESS_POLL;
        Map<String, Slot> ordered = new LinkedHashMap<>();
        budget.shareAmong(this, wanted.values().stream().map(this::trafficWithItsCap).toList());
        for (ForwardSpec spec : wanted.values()) {
            Slot slot = slots.computeIfAbsent(spec.getName(), n -> new Slot(spec, config));
            ordered.put(spec.getName(), slot);
            if (slot.state != ForwardState.Bound && !now.isBefore(slot.nextAttempt)) {
                bind(slot, config);
            }
            if (slot.state == ForwardState.Bound) {
                Duration untilCheck = slot.checks.runIfDue(slot.host, spec, slot.remotePort, onActive(config),
                        traffic.get(spec.getName()), now);
                if (untilCheck.compareTo(wait) < 0) {
                    wait = untilCheck;
                }
            }
            if (slot.state == ForwardState.Failed) {
                Duration untilRetry = Duration.between(now, slot.nextAttempt);
                if (untilRetry.compareTo(wait) < 0) {
                    wait = untilRetry.isNegative() ? Duration.ZERO : untilRetry;
                }
            }
        }
        slots.clear();
        slots.putAll(ordered); // the order of the spec, for reports
        return wait;
    }

    /** The forward's counters (kept across configs and sessions, as metrics need), with the spec's cap applied. */
    private ForwardTraffic trafficWithItsCap(ForwardSpec spec) {
        ForwardTraffic counters = traffic.computeIfAbsent(spec.getName(), n -> new ForwardTraffic(budget));
        counters.limit(spec.getMaxConnections());
        return counters;
    }

    private void bind(Slot slot, TunnelConfig config) {
        ForwardTraffic counters = traffic.get(slot.spec.getName()); // made by reconcileForwards, before any bind
        Instant now = clock.instant();
        boolean held = heldByAnOlderSession(slot)
                && (slot.heldSince == null || Duration.between(slot.heldSince, now).compareTo(HELD_LISTEN_PATIENCE) < 0);
        try {
            try {
                slot.boundOn(session, session.bind(slot.spec, counters));
            } catch (ForwardRefused refused) {
                if (slot.state != ForwardState.Failed || held) {
                    // A first refusal: the relay's line was read a moment ago. A held listen: a new login would be
                    // refused the same, until the relay lets the older session go.
                    throw refused;
                }
                bindOnSideSession(slot, config, counters, refused);
            }
            slot.retry.reset();
            LOG.infof("forward %s bound on relay port %d", slot.spec, slot.remotePort);
        } catch (ForwardRefused e) {
            if (held && slot.heldSince == null) {
                slot.heldSince = now;
            }
            Duration wait;
            if (held) {
                Duration soon = Backoff.spread(HELD_LISTEN_RETRY, random);
                wait = soon.plus(heldAsks.reserve(now.plus(soon)));
            } else {
                wait = slot.retry.next(); // after the held asks, from the backoff's start
            }
            if (slot.state != ForwardState.Failed) {
                LOG.warnf("forward %s: %s (retrying in %d ms)", slot.spec, e.getMessage(), wait.toMillis());
            }
            slot.state = ForwardState.Failed;
            if (held) {
                slot.reason = Reasons.FORWARD_REFUSED;
                slot.message = e.getMessage() + ": most likely the relay still holds it for an older session of this key ("
                        + (everBound.containsKey(boundKey(slot)) ? "this agent's, before it reconnected"
                                : "the agent pod that served the tunnel before") + ") until it finds that session "
                        + "dead (its ClientAliveInterval x ClientAliveCountMax); asked again every "
                        + HELD_LISTEN_RETRY.toMillis() + " ms for " + HELD_LISTEN_PATIENCE.toMinutes() + " min, then with "
                        + "the backoff";
            } else if (everBound.containsKey(boundKey(slot))) {
                slot.reason = Reasons.FORWARD_REFUSED;
                slot.message = e.getMessage();
            } else {
                slot.reason = Reasons.AUTHORIZED_KEY_OUTDATED;
                slot.message = e.getMessage() + ". This key has never listened there: if the forward is new, the "
                        + "relay's authorized_keys line for the key predates it; replace that line with the tunnel's "
                        + "status.authorizedKey (or the output of jumpgate authorized-key) and the forward binds within "
                        + desired.spec().getReconnect().getMaxBackoffSeconds() + " s, the others untouched";
            }
            slot.nextAttempt = now.plus(wait);
        }
    }

    /** The slot's listen on the relay the agent is on: what {@link #everBound} holds. */
    private String boundKey(Slot slot) {
        return (onActive == null ? "" : onActive.spec().getRelay().where()) + " " + slot.listen();
    }

    /**
     * Whether a refusal of the slot's listen on the current session means an older session holds it: this agent held
     * it before this session logged in (so the key's line, read at that login, allowed it), or its pod took over from
     * one that did not let go. A listen bound later than this session's login (on a side session) is not: its
     * refusal here may be the session's older line, which a side session fixes.
     */
    private boolean heldByAnOlderSession(Slot slot) {
        Instant bound = everBound.get(boundKey(slot));
        return connectedAt != null && (bound != null ? bound.isBefore(connectedAt) : inheritedListens.getAsBoolean());
    }

    /** Logs in again, so that the relay reads the key's line as it is now, and binds the forward on that session. */
    private void bindOnSideSession(Slot slot, TunnelConfig config, ForwardTraffic counters, ForwardRefused refused)
            throws ForwardRefused {
        RelaySession side;
        try {
            side = relay.open(onActive(config), onActive(config).hostKeyPins(acceptedHostKey), this::wake);
        } catch (RelayFailure f) {
            LOG.debugf("no side session for forward %s: %s", slot.spec, f.getMessage());
            throw refused;
        }
        try {
            slot.boundOn(side, side.bind(slot.spec, counters));
        } catch (ForwardRefused again) {
            side.close();
            throw again;
        }
        sideSessions.add(side);
        LOG.infof("forward %s bound on a side session: the relay's line for the key changed since this session "
                + "logged in", slot.spec);
    }

    /**
     * Side sessions that died give their forwards back (they are bound again by the pass that follows); a side
     * session that holds no forward any more is closed.
     */
    private void tidySideSessions() {
        for (Iterator<RelaySession> it = sideSessions.iterator(); it.hasNext(); ) {
            RelaySession side = it.next();
            if (!side.isConnected()) {
                slots.values().removeIf(slot -> slot.host == side);
                LOG.warn("a side session to the relay was lost; binding its forwards again");
            }
            if (slots.values().stream().noneMatch(slot -> slot.host == side)) {
                it.remove();
                side.close();
            }
        }
    }

    private void dropSession() {
        sideSessions.forEach(RelaySession::close);
        sideSessions.clear();
        if (session != null) {
            session.close();
        }
        keyCheck.sessionEnded();
        session = null;
        connectedAt = null;
        slots.clear();
    }

    private void shutdown() {
        if (session != null) {
            slots.values().stream().filter(s -> s.state == ForwardState.Bound)
                    .forEach(s -> s.host.cancel(s.spec, s.remotePort));
            LOG.info("forwards cancelled, disconnecting from the relay");
        }
        dropSession();
        if (standby != null) {
            standby.close();
            standby = null;
        }
        // Logins still under way beside the tunnel: whatever they open is closed as it arrives.
        if (standbyTry != null) {
            standbyTry.thenAccept(RelaySession::close);
        }
        if (failbackTry != null) {
            failbackTry.thenAccept(outcome -> {
                if (outcome.candidate() != null) {
                    outcome.candidate().close();
                }
            });
        }
        draining.keySet().forEach(RelaySession::close);
        draining.clear();
        budget.shareAmong(this, List.of()); // its places go back to the other tunnels of the process
        reason = Reasons.CONNECTING;
        message = "the agent stopped";
        publish();
    }

    /** The backoff of the applied spec: rebuilt when the spec's reconnect settings change. */
    private Backoff connectBackoff() {
        ReconnectSpec wanted = desired.spec().getReconnect();
        if (connectBackoff == null || !TunnelConfig.sameFields(wanted, backoffFor)) {
            connectBackoff = Backoff.of(wanted, random);
            backoffFor = wanted;
        }
        return connectBackoff;
    }

    private void publish() {
        TunnelConfig config = desired;
        if (config == null) {
            return;
        }
        List<ForwardReport> forwards = new ArrayList<>();
        for (ForwardSpec spec : config.forwards()) {
            long refused = refusedToReport(spec.getName());
            Slot slot = session == null ? null : slots.get(spec.getName());
            if (slot == null || !slot.spec.equals(spec)) {
                forwards.add(new ForwardReport(spec.getName(), spec.getRemote().getBindAddress(),
                        spec.getRemote().getPort(), 0, spec.destination(), ForwardState.Pending,
                        Reasons.FORWARD_PENDING, "waiting for the session to the relay", refused, null));
            } else {
                forwards.add(slot.report(refused));
            }
        }
        AgentReport next = new AgentReport(config.generation(), session != null, reason, message,
                connectedAt == null ? null : connectedAt.toString(), reconnects, lastError,
                session == null && nextConnectAttempt != Instant.MIN && running ? nextConnectAttempt.toString() : null,
                hostKeySeen == null ? null : hostKeySeen.toKeyString(),
                hostKeySeen == null ? null : hostKeySeen.fingerprint(), keyCheck.runsCommands(), relayVersion,
                keyCheck.opensAnywhere(),
                List.copyOf(forwards), null, hopReports(onActive(config)),
                config.relayCount() > 1 ? active : null,
                failover == null || failbackNote == null ? failover : failover + "; " + failbackNote);
        if (!next.equals(report)) {
            report = next;
            listener.accept(next);
        }
    }

    /**
     * The count of connections refused at the forward's cap, as reports show it: the first refusal at once, later
     * ones at most every {@link #REFUSED_REPORT_PERIOD}, as each report is a write to the API server.
     */
    private long refusedToReport(String forward) {
        ForwardTraffic counters = traffic.get(forward);
        long actual = counters == null ? 0 : counters.refusedConnections();
        RefusedShown shown = refusedShown.get(forward);
        Instant now = clock.instant();
        if (actual == 0 || shown != null && (actual == shown.count()
                || now.isBefore(shown.since().plus(REFUSED_REPORT_PERIOD)))) {
            return shown == null ? 0 : shown.count();
        }
        if (shown == null) {
            LOG.warnf("forward %s refuses connections past its cap of %d, or past the %d the agent holds for all its "
                    + "forwards together (from its memory limit)", forward, counters.maxConnections(), budget.max());
        }
        refusedShown.put(forward, new RefusedShown(actual, now));
        return actual;
    }

    private record RefusedShown(long count, Instant since) {
    }

    private void await(Duration wait) {
        synchronized (signal) {
            if (changed || !running) {
                changed = false;
                return;
            }
            try {
                signal.wait(Math.max(1, wait.toMillis()));
            } catch (InterruptedException e) {
                running = false;
            }
            changed = false;
        }
    }

    private static String describe(TunnelConfig config) {
        var relay = config.spec().getRelay();
        StringBuilder path = new StringBuilder(relay.where());
        relay.jumpHosts().forEach(hop -> path.append(" via ").append(hop.where()));
        if (relay.getProxy() != null) {
            path.append(" through the ").append(relay.getProxy().getType()).append(" proxy ")
                    .append(relay.getProxy().getHost()).append(':').append(relay.getProxy().getPort());
        }
        return path.toString();
    }

    /** The spec's jump hosts as the last attempt found them; null when it has none. */
    private List<HopReport> hopReports(TunnelConfig config) {
        List<JumpHost> via = config.spec().getRelay().jumpHosts();
        if (via.isEmpty()) {
            return null;
        }
        boolean sameHops = hopsSeen.size() == via.size();
        for (int i = 0; sameHops && i < via.size(); i++) {
            sameHops = hopsSeen.get(i).isOf(via.get(i));
        }
        if (!sameHops) {
            return via.stream()
                    .map(hop -> new HopReport(hop.getHost(), hop.getPort(), HopState.NotReached, null, null)).toList();
        }
        List<Boolean> restricted = keyCheck.jumpHostsRestricted();
        if (session == null || restricted.size() != hopsSeen.size()) {
            return hopsSeen;
        }
        List<HopReport> checked = new ArrayList<>();
        for (int i = 0; i < hopsSeen.size(); i++) {
            checked.add(hopsSeen.get(i).withKeyRestricted(restricted.get(i)));
        }
        return checked;
    }

    /** One forward's place on the current session. */
    private final class Slot {
        final ForwardSpec spec;
        final Backoff retry;
        /** The session the forward is bound on: the agent's session, or a side session. */
        RelaySession host;
        ForwardState state = ForwardState.Pending;
        int remotePort;
        String reason = Reasons.FORWARD_PENDING;
        String message = "not asked for yet";
        Instant nextAttempt = Instant.MIN;
        /** When the relay first refused this listen as held by an older session (since it was last bound); or null. */
        Instant heldSince;
        final ForwardCheckSchedule checks = new ForwardCheckSchedule(clock, TunnelAgent.this::wake);

        Slot(ForwardSpec spec, TunnelConfig config) {
            this.spec = spec;
            this.retry = Backoff.of(config.spec().getReconnect(), random);
        }

        String listen() {
            return spec.getRemote().getBindAddress() + ":" + spec.getRemote().getPort();
        }

        /** The relay listens for the forward on {@code port}, through session {@code on}. */
        void boundOn(RelaySession on, int port) {
            host = on;
            remotePort = port;
            state = ForwardState.Bound;
            reason = Reasons.BOUND;
            message = "the relay listens on " + spec.getRemote().getBindAddress() + ":" + port;
            heldSince = null;
            everBound.put(boundKey(this), clock.instant());
        }

        ForwardReport report(long refusedConnections) {
            boolean bound = state == ForwardState.Bound;
            ForwardCheckSchedule.Verdict verdict = checks.current();
            if (!bound || verdict == null) {
                String unchecked = bound && checks.on() ? message + "; checking it end to end" : message;
                return new ForwardReport(spec.getName(), spec.getRemote().getBindAddress(), spec.getRemote().getPort(),
                        bound ? remotePort : 0, spec.destination(), state, reason, unchecked,
                        refusedConnections, null);
            }
            EndToEndCheck.Result result = verdict.result();
            return new ForwardReport(spec.getName(), spec.getRemote().getBindAddress(), spec.getRemote().getPort(),
                    remotePort, spec.destination(), state, result.reason(), result.message(), refusedConnections,
                    new CheckReport(result.reachable(), verdict.at().toString(), result.latencyMillis(),
                            result.listeningOn()));
        }
    }
}
