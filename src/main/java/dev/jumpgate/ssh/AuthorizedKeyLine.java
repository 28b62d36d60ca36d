package dev.jumpgate.ssh;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The authorized_keys line a relay owner appends for a tunnel: the key may do nothing but listen where the tunnel
 * listens. {@code restrict} turns off ptys, agent and X11 forwarding and every port forwarding; {@code port-forwarding}
 * turns both directions back on; {@code permitlisten} narrows remote forwards (-R) to the tunnel's own listens.
 * Local forwards (-L) would then reach anything the relay reaches, and OpenSSH has no "none" for {@code permitopen}:
 * the one destination it permits is {@link #NO_DESTINATION}, port 1 of the relay's loopback, which nothing serves.
 */
public final class AuthorizedKeyLine {

    static final String NO_DESTINATION = "permitopen=\"127.0.0.1:1\"";

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

    public static String of(PublicKeyLine key, Collection<Listen> listens, String comment) {
        Set<String> options = new LinkedHashSet<>();
        options.add("restrict");
        options.add("port-forwarding");
        options.add(NO_DESTINATION);
        listens.forEach(l -> options.add(l.option()));
        return options.stream().collect(Collectors.joining(",")) + " " + key.toKeyString()
                + (comment == null || comment.isEmpty() ? "" : " " + comment);
    }
}
