package dev.jumpgate.ssh;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The authorized_keys line a relay owner appends for a tunnel: the key may do nothing but listen where the tunnel
 * listens. {@code restrict} turns off ptys, agent and X11 forwarding, ~/.ssh/rc and every port forwarding;
 * {@code port-forwarding} turns both directions back on; {@code permitlisten} narrows remote forwards (-R) to the
 * tunnel's own listens. Local forwards (-L, -D, -W) would then reach anything the relay reaches, and OpenSSH has no
 * "none" for {@code permitopen}: the one destination it permits is {@link #NO_DESTINATION}, port 1 of the relay's
 * loopback, which nothing serves (the relay's recommended sshd block, AllowTcpForwarding remote, refuses them all).
 * {@code restrict} does not stop commands, shells or subsystems: {@link #FORCED_COMMAND} runs instead of whatever a
 * session asks for. Remote forwards are global requests and need no session; the agent opens one per login only to
 * check that it gets this command and not a shell (TunnelAgent).
 */
public final class AuthorizedKeyLine {

    static final String NO_DESTINATION = "permitopen=\"127.0.0.1:1\"";
    /** What a session with the key runs, whatever it asked for: a word on stderr, and failure. */
    static final String FORCED_COMMAND = "command=\"echo 'this key only holds a Jumpgate tunnel' >&2; exit 1\"";

    private AuthorizedKeyLine() {
    }

    /** A listen the key may open; port 0 (the relay allocates) becomes OpenSSH's port wildcard. */
    public record Listen(String bindAddress, int port) {
        String option() {
            // sshd matches the address the client asked for against this pattern, so it stays verbatim.
            String host = bindAddress.isEmpty() ? "*" : bindAddress;
            if (host.contains(":")) {
                host = "[" + host + "]";
            }
            return "permitlisten=\"" + host + ":" + (port == 0 ? "*" : Integer.toString(port)) + "\"";
        }
    }

    /**
     * The line for this tunnel's key: it may listen where the tunnel's forwards listen. The operator puts it in
     * status.authorizedKey; the standalone agent prints it ({@code jumpgate authorized-key}).
     */
    public static String forTunnel(ReverseTunnel tunnel, PublicKeyLine key) {
        List<Listen> listens = tunnel.getSpec().getForwards().stream()
                .map(f -> new Listen(f.getRemote().getBindAddress(), f.getRemote().getPort()))
                .toList();
        return of(key, listens, tunnel.keyComment());
    }

    public static String of(PublicKeyLine key, Collection<Listen> listens, String comment) {
        Set<String> options = new LinkedHashSet<>();
        options.add("restrict");
        options.add("port-forwarding");
        options.add(FORCED_COMMAND);
        options.add(NO_DESTINATION);
        listens.forEach(l -> options.add(l.option()));
        return options.stream().collect(Collectors.joining(",")) + " " + key.toKeyString()
                + (comment == null || comment.isEmpty() ? "" : " " + comment);
    }
}
