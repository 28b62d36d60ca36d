package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.RelaySpec;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.ssh.PublicKeyLine;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A relay that a test scripts, in place of sshd: logins that fail as told, listen ports refused as told, sessions that
 * die when told; every session, bind and cancel recorded. Like sshd, a session reads the key's allowed listens once,
 * at login ({@link #refuseListensOn}), so a change reaches only the sessions opened after it.
 */
final class ScriptedRelay implements RelayConnector {

    static final PublicKeyLine HOST_KEY = Ed25519KeyPair.generate("scripted-relay").publicKey();
    /** Where the relay allocates ports for forwards that ask for port 0. */
    static final int FIRST_ALLOCATED_PORT = 40_000;

    private final Deque<RelayFailure> nextLogins = new ArrayDeque<>();
    private final Set<Integer> refusedPorts = new HashSet<>();
    final List<Session> sessions = new CopyOnWriteArrayList<>();
    /** The host keys the agent required at each login, failed ones included. */
    final List<List<String>> pinsAtLogin = new CopyOnWriteArrayList<>();
    /** Every login tried, failed ones included. */
    int logins;
    int tcpProbes;
    boolean acceptsTcp;
    boolean runsCommands;
    /** Thrown, once, by the next bind: a bug in the agent's code or a library below it. */
    RuntimeException nextBindBug;

    /** The next logins fail with these, in order; the ones after succeed. */
    void failNextLogins(RelayFailure... failures) {
        nextLogins.addAll(List.of(failures));
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
    public RelaySession open(TunnelConfig config, List<String> pins) throws RelayFailure {
        logins++;
        pinsAtLogin.add(List.copyOf(pins));
        RelayFailure failure = nextLogins.poll();
        if (failure != null) {
            throw failure;
        }
        Session session = new Session(Set.copyOf(refusedPorts));
        sessions.add(session);
        return session;
    }

    @Override
    public boolean accepts(RelaySpec relay, int timeoutMillis) {
        tcpProbes++;
        return acceptsTcp;
    }

    /** One scripted session: what it was asked, and whether it is still up. */
    final class Session implements RelaySession {
        private final Set<Integer> refusedAtLogin;
        final List<String> bound = new CopyOnWriteArrayList<>();
        final List<String> cancelled = new CopyOnWriteArrayList<>();
        private volatile boolean up = true;
        private volatile boolean closedByAgent;
        private int nextAllocated = FIRST_ALLOCATED_PORT;

        Session(Set<Integer> refusedAtLogin) {
            this.refusedAtLogin = refusedAtLogin;
        }

        /** The connection to the relay is lost. */
        void die() {
            up = false;
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
        public int bind(ForwardSpec forward, ForwardTraffic traffic) throws ForwardRefused {
            RuntimeException bug = nextBindBug;
            if (bug != null) {
                nextBindBug = null;
                throw bug;
            }
            int port = forward.getRemote().getPort();
            if (!up || refusedAtLogin.contains(port)) {
                throw new ForwardRefused("the relay refused to listen on port " + port);
            }
            bound.add(forward.getName());
            return port == 0 ? nextAllocated++ : port;
        }

        @Override
        public void cancel(ForwardSpec forward, int remotePort) {
            cancelled.add(forward.getName());
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
}
