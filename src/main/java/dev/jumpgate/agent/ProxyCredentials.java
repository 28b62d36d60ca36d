package dev.jumpgate.agent;

import java.util.Arrays;

/**
 * A proxy's username and password: where they came from, and the values, which nothing prints. Read when the agent
 * connects, like its key, so that new credentials in the Secret are used by the next session.
 */
public final class ProxyCredentials {

    private final String source;
    private final byte[] username;
    private final byte[] password;

    private ProxyCredentials(String source, byte[] username, byte[] password) {
        this.source = source;
        this.username = username;
        this.password = password;
    }

    public static ProxyCredentials of(String source, byte[] username, byte[] password) {
        return new ProxyCredentials(source, username.clone(), password.clone());
    }

    public String source() {
        return source;
    }

    byte[] username() {
        return username.clone();
    }

    byte[] password() {
        return password.clone();
    }

    /** "user:password", as HTTP Basic encodes it. */
    byte[] basic() {
        byte[] joined = new byte[username.length + 1 + password.length];
        System.arraycopy(username, 0, joined, 0, username.length);
        joined[username.length] = ':';
        System.arraycopy(password, 0, joined, username.length + 1, password.length);
        return joined;
    }

    boolean same(ProxyCredentials other) {
        return other != null && Arrays.equals(username, other.username) && Arrays.equals(password, other.password);
    }

    @Override
    public String toString() {
        return "ProxyCredentials[" + source + "]";
    }
}
