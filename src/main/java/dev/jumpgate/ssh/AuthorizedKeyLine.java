package dev.jumpgate.ssh;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The authorized_keys line a relay owner appends for a tunnel: the key may do nothing but listen where the tunnel
 * listens. {@code restrict} turns off ptys, agent and X11 forwarding and every port forwarding; {@code port-forwarding}
 * turns forwarding back on, and {@code permitlisten} narrows remote forwards to the tunnel's own bind addresses.
 * Local forwards (-L) need {@code permitopen}; none is given, so the key cannot open connections from the relay.
 */
public final class AuthorizedKeyLine {

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
        listens.forEach(l -> options.add(l.option()));
        return options.stream().collect(Collectors.joining(",")) + " " + key.toKeyString()
                + (comment == null || comment.isEmpty() ? "" : " " + comment);
    }
}
