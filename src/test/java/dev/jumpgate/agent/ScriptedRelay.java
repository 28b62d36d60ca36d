package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RelaySpec;
import dev.jumpgate.ssh.AuthorizedKeyLine;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.ssh.PublicKeyLine;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A relay that a test scripts, in place of sshd: logins that fail as told, listen ports refused as told, sessions that
 * die when told; every session, bind and cancel recorded. Like sshd, a session reads the key's allowed listens once,
 * at login ({@link #refuseListensOn}), so a change reaches only the sessions opened after it.
 *
 * <p>The relay also carries the end-to-end check's connections: one made to a listen a session holds arrives at that
 * session's forward and goes to the scripted target ({@link #targets}); the relay's network can be scripted to bind
 * wildcard listens to loopback only, drop connections to a port, or have a stranger answer at an address.
 */
final class ScriptedRelay implements RelayConnector {

    static final PublicKeyLine HOST_KEY = Ed25519KeyPair.generate("scripted-relay").publicKey();
    /** Where the relay allocates ports for forwards that ask for port 0. */
    static final int FIRST_ALLOCATED_PORT = 40_000;

    private final Deque<RelayFailure> nextLogins = new ArrayDeque<>();
    private final Set<Integer> refusedPorts = new HashSet<>();
    private final Set<Integer> heldElsewhere = ConcurrentHashMap.newKeySet();
    final List<Session> sessions = new CopyOnWriteArrayList<>();
    /** The host keys the agent required at each login, failed ones included. */
    final List<List<String>> pinsAtLogin = new CopyOnWriteArrayList<>();
    /** Every login tried, failed ones included. */
    int logins;
    int tcpProbes;
    boolean acceptsTcp;
    boolean runsCommands;
    /** sshd's GatewayPorts no: a wildcard listen is bound to localhost only. */
    volatile boolean loopbackOnly;
    /** sshd's AllowTcpForwarding remote, or a key line without the check's permitopen. */
    volatile boolean prohibitsChecks;
    /** A key line pasted without its options: the relay connects anywhere for it. Else only to the session's listens. */
    volatile boolean permitsAnywhere;
    /** Ports a firewall on the relay drops connections to, on every address. */
    final Set<Integer> droppedPorts = ConcurrentHashMap.newKeySet();
    /** host:port where some other process answers. */
    final Set<String> strangers = ConcurrentHashMap.newKeySet();
    /** How each target (host:port) takes a connection; absent ones answer with an SSH banner. */
    final Map<String, Target> targets = new ConcurrentHashMap<>();
    /**
     * Relays (by host) that are down: a login to one fails as a refused connection and a TCP probe finds it shut.
     * The scripted network has several relays this way; sessions tell which one they are on.
     */
    final Set<String> downHosts = ConcurrentHashMap.newKeySet();
    /** Every connection the agent asked the relay to make, as host:port. */
    final List<String> checkConnections = new CopyOnWriteArrayList<>();

    /** What a target does with a connection from the agent. */
    enum Target { SSH, HTTP_SERVER_WAITING, REFUSES, TIMES_OUT, UNKNOWN_HOST, CLOSES_AT_ONCE }

    /** Thrown, once, by the next bind: a bug in the agent's code or a library below it. */
    RuntimeException nextBindBug;

    /** The next logins fail with these, in order; the ones after succeed. */
    void failNextLogins(RelayFailure... failures) {
        nextLogins.addAll(List.of(failures));
    }

    /**
     * The listens on these ports are held by a session that is not one of the agent's (an older one the relay has
     * not found dead yet): every bind of them is refused until they are let go, on any session, at once.
     */
    void holdElsewhere(Integer... ports) {
        heldElsewhere.clear();
        heldElsewhere.addAll(List.of(ports));
    }

    /** The key's line on the relay from now on lets it listen everywhere but on these ports. */
    void refuseListensOn(Integer... ports) {
        refusedPorts.clear();
        refusedPorts.addAll(List.of(ports));
    }

    Session session(int index) {
        return sessions.get(index);
    }

    @Override
    public RelaySession open(TunnelConfig config, List<String> pins, Runnable ended) throws RelayFailure {
        logins++;
        pinsAtLogin.add(List.copyOf(pins));
        String host = config.spec().getRelay().getHost();
        if (downHosts.contains(host)) {
            throw new RelayFailure(Reasons.RELAY_UNREACHABLE, host + ": connection refused", true, null, true);
        }
        RelayFailure failure = nextLogins.poll();
        if (failure != null) {
            throw failure;
        }
        Session session = new Session(host, Set.copyOf(refusedPorts), ended);
        sessions.add(session);
        return session;
    }

    @Override
    public boolean accepts(RelaySpec relay, int timeoutMillis) {
        tcpProbes++;
        return acceptsTcp && !downHosts.contains(relay.getHost());
    }

    /** One scripted session: what it was asked, and whether it is still up. */
    final class Session implements RelaySession {
        /** The relay this session is on. */
        final String host;
        private final Set<Integer> refusedAtLogin;
        /** What the agent asked to hear when the session ends. */
        private final Runnable ended;
        /** Connections through this session's forwards that are open: scripted. */
        volatile int openConnections;
        final List<String> bound = new CopyOnWriteArrayList<>();
        final List<String> cancelled = new CopyOnWriteArrayList<>();
        /** The listens this session holds: port to its forward and counters. */
        private final Map<Integer, Held> listens = new ConcurrentHashMap<>();
        private volatile boolean up = true;
        private volatile boolean closedByAgent;
        private int nextAllocated = FIRST_ALLOCATED_PORT;

        Session(String host, Set<Integer> refusedAtLogin, Runnable ended) {
            this.host = host;
            this.ended = ended;
            this.refusedAtLogin = refusedAtLogin;
        }

        /** The connection to the relay is lost. */
        void die() {
            up = false;
            ended.run();
        }

        /** Whether the agent closed the session (a lost one too: it must let go of it). */
        boolean closedByAgent() {
            return closedByAgent;
        }

        @Override
        public PublicKeyLine hostKey() {
            return HOST_KEY;
        }

        @Override
        public boolean isConnected() {
            return up;
        }

        @Override
        public int openConnections() {
            return openConnections;
        }

        @Override
        public int bind(ForwardSpec forward, ForwardTraffic traffic) throws ForwardRefused {
            RuntimeException bug = nextBindBug;
            if (bug != null) {
                nextBindBug = null;
                throw bug;
            }
            int port = forward.getRemote().getPort();
            if (!up || refusedAtLogin.contains(port) || heldElsewhere.contains(port)) {
                throw new ForwardRefused("the relay refused to listen on port " + port);
            }
            bound.add(forward.getName());
            int listening = port == 0 ? nextAllocated++ : port;
            listens.put(listening, new Held(forward, traffic));
            return listening;
        }

        @Override
        public void cancel(ForwardSpec forward, int remotePort) {
            cancelled.add(forward.getName());
            listens.remove(remotePort);
        }

        @Override
        public String serverVersion() {
            return "SSH-2.0-ScriptedRelay_1.0";
        }

        @Override
        public RelayedConnection connectFromRelay(String host, int port, Duration timeout)
                throws RelayedConnection.Refused {
            checkConnections.add(host + ":" + port);
            if (!up) {
                throw new RelayedConnection.Refused(RelayedConnection.Refused.Kind.SESSION_LOST, "session lost");
            }
            Held held = listens.get(port);
            if (prohibitsChecks || held == null && !permitsAnywhere) {
                throw new RelayedConnection.Refused(RelayedConnection.Refused.Kind.PROHIBITED, "prohibited");
            }
            if (droppedPorts.contains(port)) {
                throw new RelayedConnection.Refused(RelayedConnection.Refused.Kind.TIMEOUT, "no answer");
            }
            if (strangers.contains(host + ":" + port)) {
                return answering("HTTP/1.0 400 Bad Request\r\n");
            }
            if (held == null || !held.listensOn(host)) {
                throw new RelayedConnection.Refused(RelayedConnection.Refused.Kind.CONNECT_FAILED, "refused");
            }
            held.traffic.arrived();
            String target = held.forward.getTarget().toString();
            switch (targets.getOrDefault(target, Target.SSH)) {
                case REFUSES -> held.traffic.targetFailed(new ConnectException("Connection refused"));
                case TIMES_OUT -> held.traffic.targetFailed(new SocketTimeoutException("Connect timed out"));
                case UNKNOWN_HOST -> held.traffic.targetFailed(new java.net.UnknownHostException(target));
                case SSH -> {
                    held.traffic.opened();
                    return answering("SSH-2.0-OpenSSH_scripted\r\n");
                }
                case HTTP_SERVER_WAITING -> {
                    held.traffic.opened();
                    return answering(null);
                }
                case CLOSES_AT_ONCE -> {
                    held.traffic.opened();
                    return answering("");
                }
            }
            return answering(""); // the agent closes the channel when its target connect fails
        }

        /** A connection whose far end says this, then closes; null: says nothing and stays open. */
        private RelayedConnection answering(String words) {
            return new RelayedConnection() {
                @Override
                public byte[] read(int max, Duration wait) {
                    return words == null ? null : words.getBytes(StandardCharsets.US_ASCII);
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public Boolean runsCommands(Duration timeout) {
            return runsCommands;
        }

        @Override
        public void close() {
            up = false;
            closedByAgent = true;
        }
    }

    /** A listen a session holds. */
    private final class Held {
        final ForwardSpec forward;
        final ForwardTraffic traffic;

        Held(ForwardSpec forward, ForwardTraffic traffic) {
            this.forward = forward;
            this.traffic = traffic;
        }

        boolean listensOn(String host) {
            String bind = forward.getRemote().getBindAddress();
            if (new AuthorizedKeyLine.Listen(bind, 0).wildcard()) {
                return !loopbackOnly || host.equals(EndToEndCheck.LOOPBACK);
            }
            return host.equals(bind);
        }
    }
}
