package dev.jumpgate.ssh;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * An OpenSSH public key as written in authorized_keys or known_hosts without the host: {@code type base64 [comment]}.
 * The blob is the wire encoding the server sends during key exchange, so comparing blobs is comparing keys.
 */
public record PublicKeyLine(String type, byte[] blob, String comment) {

    public static PublicKeyLine parse(String line) {
        if (line == null || line.isBlank()) {
            throw new IllegalArgumentException("empty public key");
        }
        String[] parts = line.trim().split("\\s+", 3);
        if (parts.length < 2) {
            throw new IllegalArgumentException("a public key is \"<type> <base64>\", got " + abbreviate(line));
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the key of type " + parts[0] + " is not valid base64");
        }
        String typeInBlob = SshWire.reader(blob).readString();
        if (!typeInBlob.equals(parts[0])) {
            throw new IllegalArgumentException("the key says it is " + parts[0] + " but its blob holds " + typeInBlob);
        }
        return new PublicKeyLine(parts[0], blob, parts.length == 3 ? parts[2] : "");
    }

    /**
     * The public key stored in the clear at the head of an OpenSSH private key file ("openssh-key-v1", what
     * ssh-keygen writes since OpenSSH 7.8), encrypted or not: no passphrase or SSH library needed.
     */
    public static PublicKeyLine fromOpenSshPrivateKey(String pem) {
        return of(OpenSshPrivateKeyFile.parse(pem).publicBlob());
    }

    public static PublicKeyLine of(byte[] blob) {
        return new PublicKeyLine(SshWire.reader(blob).readString(), blob.clone(), "");
    }

    /** The fingerprint OpenSSH prints: {@code SHA256:} and the unpadded base64 of the blob's SHA-256. */
    public String fingerprint() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-256", e);
        }
    }

    public boolean sameKey(PublicKeyLine other) {
        return Arrays.equals(blob, other.blob);
    }

    /** {@code type base64}, without the comment: the form status and known_hosts use. */
    public String toKeyString() {
        return type + " " + Base64.getEncoder().encodeToString(blob);
    }

    @Override
    public String toString() {
        return comment.isEmpty() ? toKeyString() : toKeyString() + " " + comment;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PublicKeyLine p && type.equals(p.type) && sameKey(p) && comment.equals(p.comment);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(blob);
    }

    private static String abbreviate(String s) {
        String t = s.trim();
        return new String((t.length() > 40 ? t.substring(0, 40) + "..." : t).getBytes(StandardCharsets.UTF_8),
                StandardCharsets.UTF_8);
    }
}
