package dev.jumpgate.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The agent's private key: where it came from, and its bytes, which nothing prints; and the OpenSSH certificate
 * issued for it, when there is one (a relay that trusts a user CA accepts the key through it).
 * Read when the agent connects, so a key rotated in its file or Secret is picked up by the next session.
 */
public final class Identity {

    private final String source;
    private final byte[] privateKey;
    private final byte[] certificate;

    private Identity(String source, byte[] privateKey, byte[] certificate) {
        this.source = source;
        this.privateKey = privateKey;
        this.certificate = certificate;
    }

    public static Identity of(String source, byte[] privateKey) {
        return of(source, privateKey, null);
    }

    /** A key and the certificate issued for it (an OpenSSH -cert.pub line), or none when null. */
    public static Identity of(String source, byte[] privateKey, byte[] certificate) {
        return new Identity(source, privateKey.clone(), certificate == null ? null : certificate.clone());
    }

    /** The key in this file, and its certificate in FILE-cert.pub when there is one, as ssh looks for it. */
    public static Identity read(Path file) throws IOException {
        Path certificate = file.resolveSibling(file.getFileName() + "-cert.pub");
        return new Identity(file.toString(), Files.readAllBytes(file),
                Files.exists(certificate) ? Files.readAllBytes(certificate) : null);
    }

    public String source() {
        return source;
    }

    byte[] privateKey() {
        return privateKey.clone();
    }

    /** The certificate's -cert.pub line; null when the key has none. */
    byte[] certificate() {
        return certificate == null ? null : certificate.clone();
    }

    /**
     * The same private key. The certificate is left out: a renewed one is used at the next login, and the session up
     * now (which the relay checked the old one for) stays.
     */
    boolean sameKey(Identity other) {
        return other != null && Arrays.equals(privateKey, other.privateKey);
    }

    @Override
    public String toString() {
        return "Identity[" + source + (certificate == null ? "" : ", with a certificate") + "]";
    }
}
