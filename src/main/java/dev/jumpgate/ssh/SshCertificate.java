package dev.jumpgate.ssh;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * What an OpenSSH certificate (a -cert.pub line, PROTOCOL.certkeys) says of itself: its key id, principals and
 * validity. Read so that a refused login can say that the certificate expired, or names other principals, rather
 * than only that the key was refused. Nothing here checks a signature: the relay does.
 */
public record SshCertificate(String type, String keyId, List<String> principals, Instant validAfter,
        Instant validBefore) {

    /** How many strings of public key material each certificate type carries before its serial. */
    private static final Map<String, Integer> KEY_FIELDS = Map.of(
            "ssh-ed25519-cert-v01@openssh.com", 1,
            "ecdsa-sha2-nistp256-cert-v01@openssh.com", 2,
            "ecdsa-sha2-nistp384-cert-v01@openssh.com", 2,
            "ecdsa-sha2-nistp521-cert-v01@openssh.com", 2,
            "ssh-rsa-cert-v01@openssh.com", 2);

    /** Parses a -cert.pub line; IllegalArgumentException when it is not a certificate of a known type. */
    public static SshCertificate parse(String line) {
        String[] parts = line == null ? new String[0] : line.trim().split("\\s+");
        if (parts.length < 2 || !KEY_FIELDS.containsKey(parts[0])) {
            throw new IllegalArgumentException("not an OpenSSH certificate line");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not base64");
        }
        SshWire.Reader in = SshWire.reader(blob);
        String type = in.readString();
        if (!type.equals(parts[0])) {
            throw new IllegalArgumentException("the line says " + parts[0] + " but the certificate is " + type);
        }
        in.readBytes(); // nonce
        for (int i = 0; i < KEY_FIELDS.get(type); i++) {
            in.readBytes(); // the certified key
        }
        in.uint64(); // serial
        in.uint32(); // user or host
        String keyId = in.readString();
        List<String> principals = new ArrayList<>();
        SshWire.Reader names = SshWire.reader(in.readBytes());
        while (names.remaining() > 0) {
            principals.add(names.readString());
        }
        return new SshCertificate(type, keyId, List.copyOf(principals), instant(in.uint64()), instant(in.uint64()));
    }

    /** OpenSSH's validity bounds are unsigned seconds; "forever" is all ones. */
    private static Instant instant(long seconds) {
        return seconds < 0 || seconds > Instant.MAX.getEpochSecond() ? Instant.MAX : Instant.ofEpochSecond(seconds);
    }

    /** For a person: whether it is valid at {@code now}, for whom, until when. */
    public String describe(Instant now) {
        String who = "key id " + keyId + ", principals " + principals;
        if (now.isBefore(validAfter)) {
            return "its certificate (" + who + ") is not valid before " + validAfter;
        }
        if (!now.isBefore(validBefore)) {
            return "its certificate (" + who + ") expired at " + validBefore;
        }
        return "its certificate (" + who + ") is valid until "
                + (validBefore.equals(Instant.MAX) ? "revoked" : validBefore.toString());
    }
}
