package dev.jumpgate.ssh;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The authorized_keys line a relay owner appends for a tunnel: the key may do nothing but listen where the tunnel
 * listens. {@code restrict} turns off ptys, agent and X11 forwarding, ~/.ssh/rc and every port forwarding;
 * {@code port-forwarding} turns both directions back on; {@code permitlisten} narrows remote forwards (-R) to the
 * tunnel's own listens. Local forwards (-L, -W) would then reach anything the relay reaches: {@code permitopen} narrows
 * them to the same listens, which is where the agent's end-to-end check connects ({@link Listen#checkHost}): a
 * wildcard listen by the relay's own name and by localhost (to tell a listen bound to loopback only), any other by
 * its address. A key holder gains nothing by it that the listen does not already give anyone who reaches the relay.
 * A listen on a port the relay allocates (port 0) gets no permitopen: its port is unknown when the line is written,
 * and "any port of the relay" would be far more than the tunnel's. OpenSSH has no "none" for {@code permitopen}: a
 * line with no destination gets {@link #NO_DESTINATION}, port 1 of the relay's loopback, which nothing serves.
 * {@code restrict} does not stop commands, shells or subsystems: {@link #FORCED_COMMAND} runs instead of whatever a
 * session asks for. Remote forwards are global requests and need no session; the agent opens one per login only to
 * check that it gets this command and not a shell (TunnelAgent).
 */
public final class AuthorizedKeyLine {

    static final String NO_DESTINATION = "permitopen=\"127.0.0.1:1\"";
    /**
     * For a key that must listen nowhere: {@code port-forwarding} allows remote forwards too, and OpenSSH has no
     * "none" for {@code permitlisten}. Port 1 of loopback is privileged: a login that is not root cannot bind it where
     * unprivileged ports start above 1. No key option covers a Unix-socket listen: the jump host's sshd block
     * (examples/relay/sshd_config.d/jumpgate-jump-host.conf) forbids both.
     */
    static final String NO_LISTEN = "permitlisten=\"127.0.0.1:1\"";
    /** How the check names the relay's loopback when a wildcard listen turns out to be bound there only. */
    public static final String LOOPBACK = "localhost";
    private static final java.util.regex.Pattern PLAIN_HOST = java.util.regex.Pattern.compile("[A-Za-z0-9.:\\-]+");
    /** What a session with the key runs, whatever it asked for: a word on stderr, and failure. */
    static final String FORCED_COMMAND = "command=\"echo 'this key only holds a Jumpgate tunnel' >&2; exit 1\"";

    private AuthorizedKeyLine() {
    }

    /**
     * A listen the key may open; port 0 (the relay allocates) becomes OpenSSH's port wildcard. {@code checked}: the
     * agent checks it end to end, so the key may connect to it from the relay.
     */
    public record Listen(String bindAddress, int port, boolean checked) {

        public Listen(String bindAddress, int port) {
            this(bindAddress, port, true);
        }

        String option() {
            // sshd matches the address the client asked for against this pattern, so it stays verbatim.
            String host = bindAddress.isEmpty() ? "*" : bindAddress;
            return "permitlisten=\"" + HostNames.bracketed(host) + ":" + (port == 0 ? "*" : Integer.toString(port)) + "\"";
        }

        /** Whether the listen asks for every address of the relay. */
        public boolean wildcard() {
            return bindAddress == null || Set.of("", "*", "0.0.0.0", "::").contains(bindAddress);
        }

        /**
         * Where the end-to-end check connects on the relay for this listen: the relay by the name the agent dials it
         * (for a wildcard listen: proof that it is not loopback only), or the listen's own address.
         */
        public String checkHost(String relayHost) {
            return wildcard() ? HostNames.unbracketed(relayHost) : bindAddress;
        }

        /** The permitopen options for the check's connections; none for a port the relay allocates. */
        List<String> checkOptions(String relayHost) {
            if (port == 0 || !checked) {
                return List.of();
            }
            List<String> hosts = wildcard() ? List.of(checkHost(relayHost), LOOPBACK) : List.of(bindAddress);
            // sshd compares these verbatim with what the agent asks for; a host with other characters is not ours
            return hosts.stream().filter(h -> PLAIN_HOST.matcher(h).matches())
                    .map(h -> "permitopen=\"" + HostNames.bracketed(h) + ":" + port + "\"").toList();
        }
    }


    /**
     * The line for a jump host: the key may have it open a TCP connection to the next hop ({@code nextHost:nextPort},
     * verbatim as the agent asks for it) and to no other place, TCP or Unix socket (permitopen covers both); no shell
     * or command.
     */
    public static String forJumpHost(PublicKeyLine key, String nextHost, int nextPort, String comment) {
        return String.join(",", "restrict", "port-forwarding", FORCED_COMMAND,
                "permitopen=\"" + HostNames.bracketed(HostNames.unbracketed(nextHost)) + ":" + nextPort + "\"", NO_LISTEN)
                + " " + key.toKeyString() + (comment == null || comment.isEmpty() ? "" : " " + comment);
    }

    /** The line for a key that may listen on {@code listens} of the relay the agent reaches as {@code relayHost}. */
    public static String of(PublicKeyLine key, String relayHost, Collection<Listen> listens, String comment) {
        return options(relayHost, listens) + " " + key.toKeyString()
                + (comment == null || comment.isEmpty() ? "" : " " + comment);
    }

    /**
     * The same for a relay that trusts a user CA: the line of its AuthorizedPrincipalsFile for the tunnel's
     * certificates (options, then the principal), which gives any certificate with that principal the key line's
     * restrictions and nothing more.
     */
    public static String forPrincipal(String principal, String relayHost, Collection<Listen> listens) {
        return options(relayHost, listens) + " " + principal;
    }

    private static String options(String relayHost, Collection<Listen> listens) {
        Set<String> options = new LinkedHashSet<>();
        options.add("restrict");
        options.add("port-forwarding");
        options.add(FORCED_COMMAND);
        Set<String> opens = new LinkedHashSet<>();
        listens.forEach(l -> opens.addAll(l.checkOptions(relayHost)));
        options.addAll(opens.isEmpty() ? Set.of(NO_DESTINATION) : opens);
        listens.forEach(l -> options.add(l.option()));
        return options.stream().collect(Collectors.joining(","));
    }
}
