package dev.jumpgate.ssh;

/**
 * Host names as OpenSSH writes them: an IPv6 address in brackets where a port follows it (a key line's permitopen,
 * an HTTP CONNECT authority), bare where the address alone is asked for (a direct-tcpip channel, SOCKS5).
 */
public final class HostNames {

    private HostNames() {
    }

    /** An IPv6 address in brackets; any other host as it is. */
    public static String bracketed(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** The host without the brackets an IPv6 address may come in. */
    public static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
