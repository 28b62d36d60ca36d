package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.ProxyType;
import dev.jumpgate.ssh.HostNames;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * Asks an egress proxy, on a socket connected to it, for a TCP connection to host:port: HTTP CONNECT (RFC 9110) or
 * SOCKS5 (RFC 1928, RFC 1929 for username and password). After it returns, the socket carries the connection. A proxy
 * is a stranger on the path: its answer is read a byte at a time up to a bound (nothing of the SSH session that follows
 * is swallowed, and an endless answer ends the attempt), and what it says lands in status only as bounded text.
 */
final class ProxyHandshake {

    /** The most of a CONNECT answer's head read: a status line and a few headers; Squid sends about 200 bytes. */
    static final int MAX_HTTP_HEAD = 8 * 1024;
    private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}"
            + "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");

    /** The proxy said no, or said something that is not its protocol. */
    static final class Refused extends IOException {
        private final boolean configuration;

        Refused(String message, boolean configuration) {
            super(message);
            this.configuration = configuration;
        }

        /** A refusal that only a change of credentials or proxy rules lifts (not a passing failure). */
        boolean configuration() {
            return configuration;
        }
    }

    private ProxyHandshake() {
    }

    static void connect(ProxyType type, Socket socket, String host, int port, ProxyCredentials credentials)
            throws IOException {
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        if (type == ProxyType.SOCKS5) {
            socks5(in, out, HostNames.unbracketed(host), port, credentials);
        } else {
            httpConnect(in, out, host, port, credentials);
        }
    }

    private static void httpConnect(InputStream in, OutputStream out, String host, int port,
            ProxyCredentials credentials) throws IOException {
        String authority = HostNames.bracketed(HostNames.unbracketed(host)) + ":" + port;
        StringBuilder request = new StringBuilder()
                .append("CONNECT ").append(authority).append(" HTTP/1.1\r\n")
                .append("Host: ").append(authority).append("\r\n");
        if (credentials != null) {
            request.append("Proxy-Authorization: Basic ")
                    .append(Base64.getEncoder().encodeToString(credentials.basic())).append("\r\n");
        }
        out.write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        String head = httpHead(in);
        String statusLine = head.lines().findFirst().orElse("");
        String[] parts = statusLine.split(" ", 3);
        int status;
        try {
            status = parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1]) : -1;
        } catch (NumberFormatException e) {
            status = -1;
        }
        String said = "\"" + printable(statusLine) + "\"";
        if (status >= 200 && status < 300) {
            return;
        }
        if (status == 407 || status == 401) { // 407 by the standard; tinyproxy answers wrong credentials with 401
            throw new Refused(credentials == null
                    ? "the HTTP proxy asks for credentials (" + said + "): name a Secret in spec.relay.proxy.credentialsSecret"
                    : "the HTTP proxy refused the credentials from " + credentials.source() + " (" + said + ")", true);
        }
        if (status == 403 || status == 405) {
            throw new Refused("the HTTP proxy does not allow a connection to " + authority + " (" + said
                    + "): its rules must allow CONNECT to that host and port", true);
        }
        if (status < 0) {
            throw new Refused("the proxy did not answer CONNECT as an HTTP proxy does (" + said + ")", true);
        }
        throw new Refused("the HTTP proxy could not connect to " + authority + " (" + said + ")", false);
    }

    /** The answer's status line and headers, up to the empty line. */
    private static String httpHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0; // of "\r\n\r\n"
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("the proxy closed the connection after " + head.size() + " bytes of its answer");
            }
            if (head.size() == MAX_HTTP_HEAD) {
                throw new Refused("the proxy's answer to CONNECT went on past " + MAX_HTTP_HEAD + " bytes", true);
            }
            head.write(b);
            matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : b == '\r' ? 1 : 0;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static void socks5(InputStream in, OutputStream out, String host, int port, ProxyCredentials credentials)
            throws IOException {
        out.write(credentials == null ? new byte[] {5, 1, 0} : new byte[] {5, 2, 0, 2});
        out.flush();
        byte[] choice = readFully(in, 2);
        if (choice[0] != 5) {
            throw new Refused("the proxy did not answer as a SOCKS5 proxy does (version " + choice[0] + ")", true);
        }
        int method = choice[1] & 0xff;
        if (method == 2 && credentials != null) {
            byte[] user = credentials.username();
            byte[] password = credentials.password();
            if (user.length > 255 || password.length > 255) {
                throw new Refused("SOCKS5 takes a username and a password of at most 255 bytes each; those in "
                        + credentials.source() + " are longer", true);
            }
            ByteArrayOutputStream auth = new ByteArrayOutputStream();
            auth.write(1);
            auth.write(user.length);
            auth.write(user);
            auth.write(password.length);
            auth.write(password);
            out.write(auth.toByteArray());
            out.flush();
            byte[] verdict = readFully(in, 2);
            if (verdict[1] != 0) {
                throw new Refused("the SOCKS5 proxy refused the credentials from " + credentials.source(), true);
            }
        } else if (method == 0xff) {
            throw new Refused(credentials == null
                    ? "the SOCKS5 proxy asks for credentials: name a Secret in spec.relay.proxy.credentialsSecret"
                    : "the SOCKS5 proxy accepts none of the ways offered (none, username and password)", true);
        } else if (method != 0) {
            throw new Refused("the SOCKS5 proxy chose an authentication method the agent did not offer (" + method + ")", true);
        }
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.write(new byte[] {5, 1, 0});
        if (IPV4.matcher(host).matches() || host.contains(":")) {
            // A literal (no lookup): an IPv4-mapped IPv6 address comes back as IPv4, and is sent as one.
            byte[] address = java.net.InetAddress.getByName(host).getAddress();
            request.write(address.length == 4 ? 1 : 4);
            request.write(address);
        } else {
            byte[] name = host.getBytes(StandardCharsets.US_ASCII);
            request.write(3);
            request.write(name.length);
            request.write(name); // the proxy resolves it: the cluster may have no DNS for the outside
        }
        request.write(port >> 8);
        request.write(port & 0xff);
        out.write(request.toByteArray());
        out.flush();
        byte[] reply = readFully(in, 4);
        if (reply[1] != 0) {
            throw new Refused("the SOCKS5 proxy did not connect to " + host + ":" + port + ": " + socksReply(reply[1]),
                    reply[1] == 2);
        }
        int addressLength = switch (reply[3]) {
            case 1 -> 4;
            case 4 -> 16;
            case 3 -> readFully(in, 1)[0] & 0xff;
            default -> throw new Refused("the SOCKS5 proxy's answer has an unknown address type " + reply[3], true);
        };
        readFully(in, addressLength + 2); // where it bound: of no use to the agent
    }

    private static String socksReply(byte code) {
        return switch (code) {
            case 1 -> "general failure";
            case 2 -> "not allowed by its rules";
            case 3 -> "network unreachable";
            case 4 -> "host unreachable";
            case 5 -> "connection refused";
            case 6 -> "TTL expired";
            case 7 -> "command not supported";
            case 8 -> "address type not supported";
            default -> "reply code " + (code & 0xff);
        };
    }

    private static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length < n) {
            throw new EOFException("the proxy closed the connection in the middle of its answer");
        }
        return bytes;
    }

    private static String printable(String text) {
        String clean = text.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() > 120 ? clean.substring(0, 120) + "..." : clean;
    }
}
