package dev.jumpgate.agent;

import com.jcraft.jsch.ChannelDirectTCPIP;
import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchAlgoNegoFailException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchHostKeyException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SocketFactory;
import com.jcraft.jsch.UserInfo;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.HopState;
import dev.jumpgate.api.v1alpha1.JumpHost;
import dev.jumpgate.api.v1alpha1.ProxySpec;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RelaySpec;
import dev.jumpgate.api.v1alpha1.SocksSpec;
import dev.jumpgate.report.HopReport;
import dev.jumpgate.report.ReportText;
import dev.jumpgate.ssh.HostNames;
import dev.jumpgate.ssh.PublicKeyLine;
import dev.jumpgate.ssh.SshCertificate;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.net.ExtendedSocketOptions;
import org.jboss.logging.Logger;

/**
 * The agent's {@link RelaySession} on JSch: the only class that opens, configures and asks things of a JSch session,
 * so that the rest of the agent speaks in specs, reasons and ports. The data path of each forwarded connection is
 * wired here too: {@link SshThreads} (the session's thread factory) fits each new channel with the agent's receive
 * window and target writer through {@link JschChannels}, and {@link TargetSockets} opens the counted target sockets.
 */
final class JschRelaySession implements RelaySession {

    private static final Logger LOG = Logger.getLogger(JschRelaySession.class);
    private static final int TARGET_CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final int MAX_CONNECT_TIMEOUT_MILLIS = 30_000;
    private static final int RELAY_READ_BUFFER = 64 * 1024;
    /** Host key algorithms when nothing is pinned yet: the strongest first, like OpenSSH. */
    private static final String ANY_HOST_KEY = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
            + "rsa-sha2-512,rsa-sha2-256";
    /** AES-GCM first: JSch runs it on the JDK's intrinsics, chacha20 in pure Java. */
    private static final String CIPHERS = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes256-ctr";

    private static final SecureRandom WORDS = new SecureRandom();

    static {
        JSch.setLogger(new JSchWarnings());
    }

    private final Session session;
    private final PinnedHostKeys hostKeys;
    /** The sessions to the jump hosts, first hop first; the relay's session is carried by the last. */
    private final List<Session> hops;
    private final List<HopReport> hopReports;
    /** Each hop's session as a RelaySession of its own, for the key check; closed only with this one. */
    private final List<RelaySession> hopViews;
    /**
     * The connections to targets this session opened and that are still open. When the session ends, the library
     * closes those it knows; one whose target connect was still under way then is no longer known to it, and would
     * hold its socket and its place in the connection budget for good. close() closes them all.
     */
    private final Set<Socket> targetSockets = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private JschRelaySession(Session session, PinnedHostKeys hostKeys, List<Session> hops, List<HopReport> hopReports) {
        this.session = session;
        this.hostKeys = hostKeys;
        this.hops = List.copyOf(hops);
        this.hopReports = List.copyOf(hopReports);
        this.hopViews = hops.stream()
                .map(hop -> (RelaySession) new JschRelaySession(hop, (PinnedHostKeys) hop.getHostKeyRepository(),
                        List.of(), List.of()))
                .toList();
    }

    /**
     * The connector that opens JSch sessions whose forwarded channels share {@code windows}. Checks first that this
     * JSch has every internal member the data path relies on: an upgraded JSch that lacks one says so at start-up,
     * not by slow uploads.
     */
    static RelayConnector connector(WindowBudget windows) {
        JschChannels.check();
        return new RelayConnector() {
            @Override
            public RelaySession open(TunnelConfig config, List<String> pins, Runnable ended) throws RelayFailure {
                return JschRelaySession.open(config, pins, windows, ended);
            }

            @Override
            public boolean accepts(RelaySpec relay, int timeoutMillis) {
                return JschRelaySession.accepts(relay, timeoutMillis);
            }
        };
    }

    /**
     * Opens a session, authenticating with the identity and checking the relay's host key against the pins (an
     * empty list accepts the first key, which {@link #hostKey()} then tells). With jump hosts, as {@code ssh -J} does:
     * a session to each hop in turn, each carried by a direct-tcpip channel of the one before, the last carrying the
     * session to the relay; with an egress proxy, the first connection goes through it.
     */
    private static JschRelaySession open(TunnelConfig config, List<String> pins, WindowBudget windows,
            Runnable ended) throws RelayFailure {
        RelaySpec relay = config.spec().getRelay();
        PinnedHostKeys hostKeys = pinned(pins, relay.hostCertificateAuthorityKeys(), "a pinned host key");
        JSch jsch = new JSch();
        byte[] certificate = config.identity().certificate();
        if (certificate != null) {
            // Offered first: a relay that trusts the user CA takes it. The bare key after it, for a relay or jump
            // host that lists the key itself.
            try {
                jsch.addIdentity("jumpgate-certificate", config.identity().privateKey(), certificate, null);
            } catch (JSchException e) {
                throw new RelayFailure(Reasons.KEY_INVALID, "the certificate from " + config.identity().source()
                        + " is not a usable OpenSSH certificate for its key: " + e.getMessage(), false, null);
            }
        }
        try {
            jsch.addIdentity("jumpgate", config.identity().privateKey(), null, null);
        } catch (JSchException e) {
            throw new RelayFailure(Reasons.KEY_INVALID, "the private key from " + config.identity().source()
                    + " is not a usable unencrypted OpenSSH key: " + e.getMessage(), false, null);
        }
        int aliveMillis = config.spec().getKeepalive().getIntervalSeconds() * 1000;
        // The keepalive window, within bounds: a relay that accepts TCP but never speaks SSH must not hold the agent.
        int connectTimeout = (int) Math.min(MAX_CONNECT_TIMEOUT_MILLIS,
                Math.max(5_000, (long) aliveMillis * config.spec().getKeepalive().getCountMax()));
        List<JumpHost> via = relay.jumpHosts();
        List<HopReport> hopReports = new ArrayList<>();
        via.forEach(hop -> hopReports.add(new HopReport(hop.getHost(), hop.getPort(), HopState.NotReached, null, null)));
        List<Session> hops = new ArrayList<>();
        Session previous = null;
        for (int i = 0; i < via.size(); i++) {
            JumpHost hop = via.get(i);
            String name = "the jump host " + hop.where() + " (hop " + (i + 1) + " of " + via.size() + ")";
            PinnedHostKeys hopKeys = null;
            try {
                hopKeys = pinned(hop.getHostKeys(), List.of(), "a host key pinned for " + name);
                previous = login(jsch, hop.getUser(), hop.getHost(), hop.getPort(), hopKeys, previous, config, windows, ended,
                        connectTimeout, aliveMillis);
            } catch (RelayFailure f) {
                hops.forEach(Session::disconnect);
                hopReports.set(i, hopReports.get(i).failed(f.getMessage(), null));
                throw f.withHops(hopReports);
            } catch (JSchException e) {
                hops.forEach(Session::disconnect);
                if (e instanceof HopChannel.Refused refusal) {
                    throw refusedOnwards(refusal, hopReports, i - 1);
                }
                RelayFailure f = classifyHop(e, config, hop, name, i);
                hopReports.set(i, hopReports.get(i).failed(f.getMessage(), hopKeys.fingerprintSeen()));
                throw f.withHops(hopReports);
            }
            hops.add(previous);
            hopReports.set(i, new HopReport(hop.getHost(), hop.getPort(), HopState.Connected, hopKeys.fingerprintSeen(),
                    null));
        }
        try {
            Session session = login(jsch, relay.getUser(), relay.getHost(), relay.getPort(), hostKeys, previous, config,
                    windows, ended, connectTimeout, aliveMillis);
            return new JschRelaySession(session, hostKeys, hops, hopReports);
        } catch (RelayFailure f) {
            hops.forEach(Session::disconnect);
            throw f.withHops(hopReports);
        } catch (JSchException e) {
            hops.forEach(Session::disconnect);
            if (e instanceof HopChannel.Refused refusal) {
                throw refusedOnwards(refusal, hopReports, via.size() - 1);
            }
            throw classify(e, config, hostKeys).withHops(hopReports);
        }
    }

    /**
     * A session to user@host:port, logged in: carried by the previous hop's channel, else through the egress proxy, else
     * on a socket of the agent's own (routeOut). A session that fails is disconnected here.
     */
    private static Session login(JSch jsch, String user, String host, int port, PinnedHostKeys keys, Session previous,
            TunnelConfig config, WindowBudget windows, Runnable ended, int connectTimeout, int aliveMillis)
            throws JSchException, RelayFailure {
        Session session = jsch.getSession(user, host, port);
        try {
            configure(session, keys, config, windows, ended);
            HopChannel carrier = routeOut(session, previous, config, connectTimeout, aliveMillis);
            session.connect(connectTimeout);
            if (carrier != null) {
                carrier.established();
            }
            return session;
        } catch (JSchException | RelayFailure | RuntimeException e) {
            session.disconnect();
            throw e;
        }
    }

    /**
     * A jump host would not connect onwards (only a hop's channel throws this, so there is a hop before): the failure is
     * that hop's, which keeps the host key it presented when it was logged in to.
     */
    private static RelayFailure refusedOnwards(HopChannel.Refused refusal, List<HopReport> hopReports, int hop) {
        hopReports.set(hop, hopReports.get(hop).failed(refusal.getMessage(), hopReports.get(hop).fingerprint()));
        return refusal.failure().withHops(hopReports);
    }

    /** With a certificate: what it says of itself (expired, not yet valid, its principals), for a refused login. */
    private static String certificateSays(TunnelConfig config) {
        byte[] certificate = config.identity().certificate();
        if (certificate == null) {
            return "";
        }
        try {
            return "; " + SshCertificate.parse(new String(certificate, StandardCharsets.US_ASCII))
                    .describe(java.time.Instant.now());
        } catch (IllegalArgumentException e) {
            return "; its certificate is unreadable (" + e.getMessage() + ")";
        }
    }

    private static PinnedHostKeys pinned(List<String> pins, List<String> authorities, String what)
            throws RelayFailure {
        try {
            return new PinnedHostKeys(pins.stream().map(PublicKeyLine::parse).toList(),
                    authorities.stream().map(PublicKeyLine::parse).toList());
        } catch (IllegalArgumentException e) {
            throw new RelayFailure(Reasons.HOST_KEY_UNKNOWN, what + " is unreadable: " + e.getMessage(), false, null);
        }
    }

    /** What every session of the agent's has: pinned host keys, the ciphers and keepalives of the tunnel. */
    private static void configure(Session session, PinnedHostKeys hostKeys, TunnelConfig config, WindowBudget windows,
            Runnable ended)
            throws JSchException {
        session.setHostKeyRepository(hostKeys);
        session.setConfig("StrictHostKeyChecking", "yes");
        session.setConfig("server_host_key", hostKeys.algorithms());
        session.setConfig("cipher.s2c", CIPHERS);
        session.setConfig("cipher.c2s", CIPHERS);
        session.setConfig("compression.s2c", "none");
        session.setConfig("compression.c2s", "none");
        session.setConfig("PreferredAuthentications", "publickey");
        session.setDaemonThread(true);
        session.setThreadFactory(SshThreads.forSession(session, windows, ended));
        session.setServerAliveInterval(config.spec().getKeepalive().getIntervalSeconds() * 1000);
        // JSch declares the relay dead at the first silent interval after countMax keepalives, one interval later
        // than ssh's ServerAliveCountMax: one less makes "interval x countMax" mean what it says in ssh_config.
        session.setServerAliveCountMax(config.spec().getKeepalive().getCountMax() - 1);
    }

    /**
     * How the session's connection is made: through the previous hop's channel (returned, to be told when the
     * session has logged in); else through the egress proxy; else a socket of the agent's own.
     */
    private static HopChannel routeOut(Session session, Session previous, TunnelConfig config, int connectTimeout,
            int aliveMillis) throws RelayFailure {
        ProxySpec proxy = config.spec().getRelay().getProxy();
        if (previous != null) {
            HopChannel carrier = new HopChannel(previous, connectTimeout, aliveMillis);
            session.setProxy(carrier);
            return carrier;
        } else if (proxy != null) {
            if (proxy.getCredentialsSecret() != null && config.proxyCredentials() == null) {
                throw new RelayFailure(Reasons.PROXY_REFUSED, "the proxy's credentials (Secret "
                        + proxy.getCredentialsSecret() + ") are not available to the agent", false, null);
            }
            session.setProxy(new EgressProxy(proxy, config.proxyCredentials(), new RelaySocket(connectTimeout)));
        } else {
            session.setSocketFactory(new RelaySocket(connectTimeout));
        }
        return null;
    }

    private static RelayFailure classify(JSchException e, TunnelConfig config, PinnedHostKeys hostKeys) {
        RelaySpec relay = config.spec().getRelay();
        String where = relay.where();
        PublicKeyLine seen = hostKeys.seen;
        if (e instanceof JSchHostKeyException && seen == null) {
            // A host certificate, checked by the library against the trusted CAs: no key of its own was looked at.
            return new RelayFailure(Reasons.HOST_KEY_MISMATCH, "the relay " + where + " presented a host certificate "
                    + "that none of the " + hostKeys.authorities.size() + " trusted host CAs vouches for here ("
                    + ReportText.bounded(String.valueOf(e.getMessage()), 200) + "); nothing was forwarded", false, null);
        }
        if (e instanceof JSchHostKeyException) {
            return new RelayFailure(Reasons.HOST_KEY_MISMATCH, "the relay " + where + " presented " + seen.type() + " "
                    + seen.fingerprint() + ", which is none of the " + hostKeys.pins.size() + " pinned host keys"
                    + (hostKeys.authorities.isEmpty() ? "" : ", with no valid host certificate from the "
                    + hostKeys.authorities.size() + " trusted host CAs for this host")
                    + "; nothing was forwarded", false, seen);
        }
        if (e instanceof JSchAlgoNegoFailException) {
            return new RelayFailure(Reasons.HOST_KEY_UNKNOWN, "the relay " + where + " offers none of the pinned host key "
                    + "types (" + hostKeys.algorithms() + ")", false, seen);
        }
        RelayFailure proxied = proxyFailure(e, config);
        if (proxied != null) {
            return proxied;
        }
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        if (message.startsWith("Auth fail") || message.startsWith("Auth cancel")) {
            String fix = config.identity().certificate() == null
                    ? "append the tunnel's authorizedKey to ~" + relay.getUser() + "/.ssh/authorized_keys on the relay"
                    : "renew the certificate if it expired, and add the tunnel's authorizedPrincipal to the relay's "
                            + "principals file for " + relay.getUser() + " (or its authorizedKey to authorized_keys)";
            return new RelayFailure(Reasons.AUTHENTICATION_FAILED, "the relay " + where + " refused the key from "
                    + config.identity().source() + certificateSays(config) + "; " + fix, false, seen);
        }
        return new RelayFailure(Reasons.RELAY_UNREACHABLE, "cannot reach the relay " + where + ": "
                + ReportText.rootMessage(e, ReportText.MAX_RELAY_TEXT),
                true, seen, refused(e) && relay.jumpHosts().isEmpty() && relay.getProxy() == null);
    }

    /**
     * A jump host's failure, in the same reasons as the relay's, naming the hop. Never with a host key seen: that is
     * the relay's alone (trust on first use pins it).
     */
    private static RelayFailure classifyHop(JSchException e, TunnelConfig config, JumpHost hop, String name, int index) {
        if (e instanceof JSchHostKeyException) {
            return new RelayFailure(Reasons.HOST_KEY_MISMATCH, name + " presented a host key which is none of its "
                    + hop.getHostKeys().size() + " pinned in spec.relay.via[" + index + "].hostKeys; nothing was forwarded",
                    false, null);
        }
        if (e instanceof JSchAlgoNegoFailException) {
            return new RelayFailure(Reasons.HOST_KEY_UNKNOWN, name + " offers none of the pinned host key types", false, null);
        }
        RelayFailure proxied = index == 0 ? proxyFailure(e, config) : null;
        if (proxied != null) {
            return proxied;
        }
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        if (message.startsWith("Auth fail") || message.startsWith("Auth cancel")) {
            return new RelayFailure(Reasons.AUTHENTICATION_FAILED, name + " refused the key from "
                    + config.identity().source() + "; append status.relay.hops[" + index + "].authorizedKey to ~"
                    + hop.getUser() + "/.ssh/authorized_keys on it", false, null);
        }
        return new RelayFailure(Reasons.RELAY_UNREACHABLE, "cannot reach " + name + ": "
                + ReportText.rootMessage(e, ReportText.MAX_RELAY_TEXT), true, null,
                refused(e) && index == 0 && config.spec().getRelay().getProxy() == null);
    }

    /** The egress proxy's refusal, or a failure to reach the proxy itself; null when the proxy is not to blame. */
    private static RelayFailure proxyFailure(JSchException e, TunnelConfig config) {
        ProxySpec proxy = config.spec().getRelay().getProxy();
        if (proxy == null) {
            return null;
        }
        Throwable cause = ReportText.rootCause(e);
        String at = proxy.getType() + " proxy " + proxy.getHost() + ":" + proxy.getPort();
        if (cause instanceof ProxyHandshake.Refused refusal) {
            return new RelayFailure(Reasons.PROXY_REFUSED, refusal.getMessage() + " (" + at + ")",
                    !refusal.configuration(), null);
        }
        if (e instanceof EgressProxy.Unreachable) {
            return new RelayFailure(Reasons.RELAY_UNREACHABLE, "cannot reach the " + at + ": "
                    + ReportText.rootMessage(e, ReportText.MAX_RELAY_TEXT), true, null);
        }
        return null;
    }

    /**
     * Whether the relay accepts a TCP connection now: a probe far cheaper than an SSH handshake, so that a relay
     * that comes back is used at once rather than at the end of a backoff. Through a proxy or a jump host, the
     * first place the agent connects to is what it can probe.
     */
    private static boolean accepts(RelaySpec relay, int timeoutMillis) {
        RelaySpec.Address first = relay.firstConnection();
        try (Socket probe = TcpSockets.connect(new Socket(), first.host(), first.port(), timeoutMillis)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** JSch reports a refused connect as a ConnectException, or only in its message when it connects on a thread. */
    private static boolean refused(JSchException e) {
        return ReportText.rootCause(e) instanceof ConnectException
                || String.valueOf(e.getMessage()).contains("Connection refused");
    }

    @Override
    public PublicKeyLine hostKey() {
        return hostKeys.seen;
    }

    @Override
    public List<HopReport> hops() {
        return hopReports;
    }

    @Override
    public List<RelaySession> jumpHostSessions() {
        return hopViews;
    }

    @Override
    public int openConnections() {
        return targetSockets.size();
    }

    @Override
    public boolean isConnected() {
        // A hop lost ends the channel that carries the relay's session, and so the session; asked here too, so that
        // it is known at once and not at the relay session's next read.
        return session.isConnected() && hops.stream().allMatch(Session::isConnected);
    }

    @Override
    public String serverVersion() {
        return session.getServerVersion();
    }

    @Override
    public RelayedConnection connectFromRelay(String host, int port, Duration timeout) throws RelayedConnection.Refused {
        ChannelDirectTCPIP channel;
        InputStream in;
        try {
            channel = (ChannelDirectTCPIP) session.openChannel("direct-tcpip");
            channel.setHost(host);
            channel.setPort(port);
            // No input stream: JSch then opens the channel on this thread and starts none of its own.
            in = channel.getInputStream();
        } catch (JSchException | IOException e) {
            throw new RelayedConnection.Refused(RelayedConnection.Refused.Kind.SESSION_LOST,
                    "the session to the relay ended: " + e.getMessage());
        }
        try {
            channel.connect((int) timeout.toMillis());
        } catch (JSchException e) {
            // JSch keeps the relay's reason code (RFC 4254 5.1) as the failed channel's exit status; -1: no answer.
            int code = channel.getExitStatus();
            channel.disconnect();
            RelayedConnection.Refused.Kind kind = !session.isConnected() ? RelayedConnection.Refused.Kind.SESSION_LOST
                    : code == 1 ? RelayedConnection.Refused.Kind.PROHIBITED
                    : code == -1 ? RelayedConnection.Refused.Kind.TIMEOUT
                    : RelayedConnection.Refused.Kind.CONNECT_FAILED;
            throw new RelayedConnection.Refused(kind, "the relay did not connect to " + host + ":" + port
                    + (code == -1 ? " within " + timeout.toSeconds() + " s" : " (reason code " + code + ")"));
        } finally {
            Thread.interrupted(); // JSch may wake the caller with an interrupt that lands after it returned
        }
        return new RelayedConnection() {
            @Override
            public byte[] read(int max, Duration wait) throws IOException {
                long deadline = System.nanoTime() + wait.toNanos();
                while (true) {
                    int ready = in.available();
                    if (ready > 0) {
                        return in.readNBytes(Math.min(ready, max));
                    }
                    if (channel.isEOF() || channel.isClosed()) {
                        ready = in.available();
                        return ready > 0 ? in.readNBytes(Math.min(ready, max)) : new byte[0];
                    }
                    if (System.nanoTime() - deadline > 0) {
                        return null;
                    }
                    try {
                        Thread.sleep(5); // JSch's stream has no read with a timeout; a check reads a few bytes once
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return null;
                    }
                }
            }

            @Override
            public void close() {
                channel.disconnect();
            }
        };
    }

    /** As {@code ssh -R} does: a tcpip-forward request; JSch keeps the target for the relay's channel opens. */
    @Override
    public int bind(ForwardSpec forward, ForwardTraffic traffic) throws ForwardRefused {
        String bind = forward.getRemote().getBindAddress();
        int requested = forward.getRemote().getPort();
        Set<Integer> before = requested == 0 ? boundPorts() : Set.of();
        try {
            // A SOCKS forward's target is the agent's own SOCKS gateway; it connects on where the rules allow.
            SocksGateway gateway = forward.getSocks() == null ? null : SocksGateway.get();
            session.setPortForwardingR(bind, requested,
                    gateway == null ? forward.getTarget().getHost() : gateway.host(),
                    gateway == null ? forward.getTarget().getPort() : gateway.port(),
                    new TargetSockets(traffic, forward.getSocks()));
        } catch (JSchException e) {
            throw new ForwardRefused("the relay refused to listen on " + bind + ":" + requested
                    + (requested == 0 ? "" : " (port in use, or not allowed by the key's permitlisten or the relay's "
                    + "GatewayPorts/PermitListen)"));
        } finally {
            // JSch wakes the caller with an interrupt that may land after it returned.
            Thread.interrupted();
        }
        if (requested != 0) {
            return requested;
        }
        // JSch does not return the port the relay allocated; it is the one entry this call added.
        Set<Integer> after = boundPorts();
        after.removeAll(before);
        if (after.size() != 1) {
            throw new ForwardRefused("the relay did not tell which port it allocated for " + bind + ":0");
        }
        return after.iterator().next();
    }

    /**
     * Asks the relay to echo a random word and looks for the word. A key installed with its authorized_keys options
     * (their forced command) or a relay with the recommended sshd block (ForceCommand) answers with anything but the
     * word; a bare key line runs it.
     */
    @Override
    public Boolean runsCommands(Duration timeout) {
        byte[] nonce = new byte[8];
        WORDS.nextBytes(nonce);
        String word = "jumpgate-probe-" + HexFormat.of().formatHex(nonce);
        ChannelExec exec = null;
        try {
            exec = (ChannelExec) session.openChannel("exec");
            exec.setCommand("echo " + word);
            exec.setInputStream(null);
            exec.setErrStream(OutputStream.nullOutputStream());
            InputStream out = exec.getInputStream();
            exec.connect((int) timeout.toMillis());
            long deadline = System.nanoTime() + timeout.toNanos();
            // The channel closes when the command exits; a relay that never closes it is unknown, not waited for.
            while (!exec.isClosed() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            if (!exec.isClosed()) {
                return null;
            }
            byte[] said = out.readNBytes(Math.min(out.available(), 4096));
            return new String(said, StandardCharsets.US_ASCII).contains(word);
        } catch (JSchException e) {
            return false; // the relay would not even open a session channel for the key
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            if (exec != null) {
                exec.disconnect();
            }
        }
    }

    @Override
    public void cancel(ForwardSpec forward, int remotePort) {
        try {
            session.delPortForwardingR(forward.getRemote().getBindAddress(), remotePort);
        } catch (JSchException e) {
            LOG.debugf("cancelling forward %s: %s", forward.getName(), e.getMessage());
        }
    }

    private Set<Integer> boundPorts() throws ForwardRefused {
        Set<Integer> ports = new HashSet<>();
        try {
            for (String entry : session.getPortForwardingR()) {
                ports.add(Integer.parseInt(entry.substring(0, entry.indexOf(':'))));
            }
        } catch (JSchException e) {
            throw new ForwardRefused("the session to the relay is closed");
        }
        return ports;
    }

    @Override
    public void close() {
        session.disconnect();
        for (int i = hops.size() - 1; i >= 0; i--) {
            hops.get(i).disconnect();
        }
        closed = true; // after this, a target connect that completes closes its own socket (TargetSockets)
        for (Socket socket : targetSockets) {
            closeQuietly(socket);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing: nothing to tell
        }
    }

    /** Checks the relay's host key against the pins; remembers the key seen for reports and for trust on first use. */
    private static final class PinnedHostKeys implements HostKeyRepository {
        /** What a relay with a host CA may present: certificates, of the types the agent checks. */
        private static final List<String> CERTIFICATE_ALGORITHMS = List.of("ssh-ed25519-cert-v01@openssh.com",
                "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
                "ecdsa-sha2-nistp521-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com",
                "rsa-sha2-256-cert-v01@openssh.com");
        private final List<PublicKeyLine> pins;
        /** Host CAs (spec.relay.hostCertificateAuthorities), whose certificates the library checks for us. */
        private final List<PublicKeyLine> authorities;
        private volatile PublicKeyLine seen;

        PinnedHostKeys(List<PublicKeyLine> pins, List<PublicKeyLine> authorities) {
            this.pins = pins;
            this.authorities = authorities;
        }


        /** SHA256 fingerprint of the key the host presented; null when it presented none (yet). */
        String fingerprintSeen() {
            PublicKeyLine key = seen;
            return key == null ? null : key.fingerprint();
        }

        /** The algorithms to offer: those of the pinned keys only, so the relay presents a key we can check. */
        String algorithms() {
            if (pins.isEmpty() && authorities.isEmpty()) {
                return ANY_HOST_KEY;
            }
            Set<String> algorithms = new LinkedHashSet<>();
            if (!authorities.isEmpty()) {
                algorithms.addAll(CERTIFICATE_ALGORITHMS);
            }
            for (PublicKeyLine pin : pins) {
                if (pin.type().equals("ssh-rsa")) {
                    algorithms.add("rsa-sha2-512");
                    algorithms.add("rsa-sha2-256");
                }
                algorithms.add(pin.type());
            }
            return String.join(",", algorithms);
        }

        @Override
        public int check(String host, byte[] key) {
            PublicKeyLine presented = PublicKeyLine.of(key);
            seen = presented;
            if (pins.isEmpty() && authorities.isEmpty() || pins.stream().anyMatch(presented::sameKey)) {
                return OK;
            }
            return CHANGED;
        }

        @Override
        public void add(HostKey hostkey, UserInfo ui) {
            // The pins come from the spec; nothing is learnt behind its back.
        }

        @Override
        public void remove(String host, String type) {
        }

        @Override
        public void remove(String host, String type, byte[] key) {
        }

        @Override
        public String getKnownHostsRepositoryID() {
            return "jumpgate-pins";
        }

        /** The CAs, as known_hosts @cert-authority lines for any host: the library checks the principals itself. */
        @Override
        public HostKey[] getHostKey() {
            List<HostKey> cas = new ArrayList<>();
            for (PublicKeyLine authority : authorities) {
                try {
                    cas.add(new HostKey("@cert-authority", "*", HostKey.GUESS, authority.blob(), "jumpgate"));
                } catch (JSchException e) {
                    LOG.warnf("a host CA of the spec is not a key the library takes: %s", e.getMessage());
                }
            }
            return cas.toArray(HostKey[]::new);
        }

        @Override
        public HostKey[] getHostKey(String host, String type) {
            return new HostKey[0]; // no revoked keys: JSch asks after an OK
        }
    }

    /**
     * The agent's socket to the relay. sshd sets TCP_NODELAY only for sessions with a pty, so its small packets
     * (a forwarded connection's first bytes) wait under Nagle for the agent's ACK, which Linux delays up to 40 ms:
     * re-arming TCP_QUICKACK after every read acknowledges at once. JSch reads the relay only through these streams.
     * It reads each packet's length, then its body: the buffer turns those into one read of the socket (and one
     * re-arm) for as many packets as have arrived, which is a third of the system calls under load.
     */
    private record RelaySocket(int connectTimeoutMillis) implements SocketFactory {
        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return TcpSockets.connect(new Socket(), host, port, connectTimeoutMillis);
        }

        @Override
        public InputStream getInputStream(Socket socket) throws IOException {
            InputStream in = socket.getInputStream();
            if (!socket.supportedOptions().contains(ExtendedSocketOptions.TCP_QUICKACK)) {
                return new BufferedInputStream(in, RELAY_READ_BUFFER);
            }
            return new BufferedInputStream(new FilterInputStream(in) {
                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    int n = super.read(buffer, offset, length);
                    quickAck();
                    return n;
                }

                @Override
                public int read() throws IOException {
                    int b = super.read();
                    quickAck();
                    return b;
                }

                private void quickAck() {
                    try {
                        socket.setOption(ExtendedSocketOptions.TCP_QUICKACK, true);
                    } catch (IOException e) {
                        // the socket closed under us: the session sees it on its next read
                    }
                }
            }, RELAY_READ_BUFFER);
        }

        @Override
        public OutputStream getOutputStream(Socket socket) throws IOException {
            return socket.getOutputStream();
        }
    }

    /** Opens the agent's connections to a forward's target, counted, and known to the session until they close. */
    private final class TargetSockets implements SocketFactory {
        private final ForwardTraffic traffic;
        /** A SOCKS forward's rules, under which the gateway serves its connections; null for one with a target. */
        private final SocksSpec socks;

        TargetSockets(ForwardTraffic traffic, SocksSpec socks) {
            this.traffic = traffic;
            this.socks = socks;
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            Socket socket = CountingSocket.connect(host, port, TARGET_CONNECT_TIMEOUT_MILLIS, traffic,
                    socks == null ? targetSockets::remove : closed -> {
                        targetSockets.remove(closed);
                        SocksGateway.get().ended(closed.getLocalPort()); // its pair, and the target, end with it
                    }, SshThreads.opening(), socks);
            targetSockets.add(socket);
            if (closed) {
                closeQuietly(socket);
                throw new IOException("the session to the relay ended while the target connection was opened");
            }
            return socket;
        }

        @Override
        public InputStream getInputStream(Socket socket) throws IOException {
            return socket.getInputStream();
        }

        @Override
        public OutputStream getOutputStream(Socket socket) throws IOException {
            return socket.getOutputStream();
        }
    }

    /**
     * The connection to the next hop (or the relay) through a jump host: a direct-tcpip channel of the hop's session,
     * as {@code ssh -J} opens with {@code -W}. What arrives goes into a {@link TimedPipe}, so the session it carries
     * notices a silent relay by its keepalives as it would on a socket. The channel announces a window as wide as
     * OpenSSH's (JSch's 128 KiB would cap what the relay sends through the hop at one window per round trip), and
     * credits the hop for what the carried session has read, never sooner: the hop's session thread then never waits
     * on a full pipe (TimedPipe says why it must not).
     */
    private static final class HopChannel implements com.jcraft.jsch.Proxy {
        static final int WINDOW = 2 * 1024 * 1024;
        /** Credit the hop in steps of this much read: few adjusts, and the hop never waits for one. */
        static final int CREDIT_STEP = 128 * 1024;

        private final Session hop;
        private final int connectTimeoutMillis;
        private final int aliveMillis;
        private final AtomicInteger uncredited = new AtomicInteger();
        private ChannelDirectTCPIP channel;
        private TimedPipe pipe;
        private OutputStream out;

        HopChannel(Session hop, int connectTimeoutMillis, int aliveMillis) {
            this.hop = hop;
            this.connectTimeoutMillis = connectTimeoutMillis;
            this.aliveMillis = aliveMillis;
        }

        /** The jump host would not connect onwards: what to tell, already classified. */
        static final class Refused extends JSchException {
            private final transient RelayFailure failure;

            Refused(RelayFailure failure) {
                super(failure.getMessage());
                this.failure = failure;
            }

            RelayFailure failure() {
                return failure;
            }
        }

        @Override
        public void connect(SocketFactory unused, String host, int port, int timeout) throws JSchException {
            // Until the carried session has logged in, a read may wait as long as a connect.
            pipe = new TimedPipe(WINDOW, connectTimeoutMillis, this::credit);
            String hopName = "the jump host " + hop.getUserName() + "@" + hop.getHost() + ":" + hop.getPort();
            try {
                channel = (ChannelDirectTCPIP) hop.openChannel("direct-tcpip");
            } catch (JSchException e) {
                throw new Refused(new RelayFailure(Reasons.RELAY_UNREACHABLE, "the session to " + hopName
                        + " ended before it was asked to connect onwards", true, null));
            }
            // sshd compares the host with the key's permitopen, which it holds without brackets.
            String target = HostNames.unbracketed(host);
            channel.setHost(target);
            channel.setPort(port);
            JschChannels.takeOverWindowBeforeOpen(channel, WINDOW);
            ChannelDirectTCPIP opened = channel;
            channel.setOutputStream(new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] bytes, int offset, int length) throws IOException {
                    JschChannels.keepOwnAdjustOff(opened); // on the hop's session thread, before JSch counts the packet
                    pipe.sink.write(bytes, offset, length);
                }

                @Override
                public void close() {
                    pipe.closeWriter();
                }
            });
            try {
                out = channel.getOutputStream();
                channel.connect(connectTimeoutMillis);
            } catch (IOException | JSchException e) {
                int code = channel.getExitStatus(); // the hop's reason code (RFC 4254 5.1); -1: no answer
                channel.disconnect();
                if (!hop.isConnected()) {
                    throw new Refused(new RelayFailure(Reasons.RELAY_UNREACHABLE, "the session to " + hopName
                            + " ended while it was asked to connect to " + target + ":" + port, true, null));
                }
                if (code == 1) {
                    throw new Refused(new RelayFailure(Reasons.JUMP_HOST_REFUSED, hopName + " is not allowed to connect "
                            + "the key to " + target + ":" + port + " (administratively prohibited): its authorized_keys "
                            + "line for the key must permitopen=\"" + host + ":" + port + "\" (status.relay.hops[]"
                            + ".authorizedKey), and its sshd must allow TCP forwarding", false, null));
                }
                throw new Refused(new RelayFailure(Reasons.RELAY_UNREACHABLE, hopName + " could not connect to " + target
                        + ":" + port + (code == -1 ? " within " + connectTimeoutMillis / 1000 + " s"
                        : " (reason code " + code + ")"), true, null));
            } finally {
                Thread.interrupted(); // JSch may wake the caller with an interrupt that lands after it returned
            }
        }

        /** The carried session has logged in: from now on one silent keepalive interval makes it send a keepalive. */
        void established() {
            pipe.timeout(aliveMillis);
        }

        /** Called on the carried session's reader thread with each read: the hop may send that much more. */
        private void credit(int bytes) {
            int owed = uncredited.addAndGet(bytes);
            if (owed < CREDIT_STEP || !uncredited.compareAndSet(owed, 0)) {
                return;
            }
            try {
                JschChannels.sendWindowAdjust(hop, channel, owed);
            } catch (IOException e) {
                pipe.close(); // the hop's session is gone: the carried session reads the end
            }
        }

        @Override
        public InputStream getInputStream() {
            return pipe.source;
        }

        @Override
        public OutputStream getOutputStream() {
            return out;
        }

        @Override
        public Socket getSocket() {
            return null; // no socket of its own: the pipe's reads time out in its place
        }

        @Override
        public void close() {
            if (channel != null) {
                channel.disconnect();
            }
            if (pipe != null) {
                pipe.close(); // a reader waiting now sees the end at once
            }
        }
    }

    /**
     * The connection to the first SSH host through the egress proxy: a socket to the proxy (the agent's own, with its
     * quick acknowledgements), the proxy's handshake on it (ProxyHandshake), then the SSH session on the same socket.
     */
    private static final class EgressProxy implements com.jcraft.jsch.Proxy {
        private final ProxySpec proxy;
        private final ProxyCredentials credentials;
        private final RelaySocket sockets;
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        EgressProxy(ProxySpec proxy, ProxyCredentials credentials, RelaySocket sockets) {
            this.proxy = proxy;
            this.credentials = credentials;
            this.sockets = sockets;
        }

        /** The proxy itself did not take the connection. */
        static final class Unreachable extends JSchException {
            Unreachable(String message, Throwable cause) {
                super(message, cause);
            }
        }

        @Override
        public void connect(SocketFactory unused, String host, int port, int timeout) throws JSchException {
            try {
                socket = sockets.createSocket(proxy.getHost(), proxy.getPort());
            } catch (IOException e) {
                throw new Unreachable(ReportText.rootMessage(e, ReportText.MAX_RELAY_TEXT), e);
            }
            try {
                socket.setSoTimeout(sockets.connectTimeoutMillis()); // a proxy that never answers ends the attempt
                ProxyHandshake.connect(proxy.getType(), socket, host, port, credentials);
                in = sockets.getInputStream(socket);
                out = sockets.getOutputStream(socket);
            } catch (ProxyHandshake.Refused e) {
                close();
                throw new JSchException(e.getMessage(), e);
            } catch (IOException e) {
                close(); // silent, or closed in the middle of its answer: the proxy's doing, not the relay's
                throw new Unreachable("it did not answer the agent's request for " + host + ":" + port + " ("
                        + ReportText.rootMessage(e, ReportText.MAX_RELAY_TEXT) + ")", e);
            }
        }

        @Override
        public InputStream getInputStream() {
            return in;
        }

        @Override
        public OutputStream getOutputStream() {
            return out;
        }

        @Override
        public Socket getSocket() {
            return socket; // JSch sets the keepalive's read timeout on it
        }

        @Override
        public void close() {
            if (socket != null) {
                closeQuietly(socket);
            }
        }
    }

    /** JSch's own log, warnings and worse only: its info level narrates every packet exchange. */
    private static final class JSchWarnings implements com.jcraft.jsch.Logger {
        private static final Logger JSCH = Logger.getLogger("com.jcraft.jsch");

        @Override
        public boolean isEnabled(int level) {
            return level >= WARN;
        }

        @Override
        public void log(int level, String message) {
            JSCH.log(level >= ERROR ? Logger.Level.ERROR : Logger.Level.WARN, message);
        }
    }
}
