package dev.jumpgate.ssh;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * What an OpenSSH certificate (a -cert.pub line, PROTOCOL.certkeys) says of itself: its serial, key id, principals,
 * validity and the CA that signed it. Read so that a refused login can say that the certificate expired, or names
 * other principals, rather than only that the key was refused, and so that the operator can tell a certificate it
 * must renew. Nothing here checks a signature: the relay does.
 *
 * @param userCertificate whether it is a user certificate (type 1), not a host's
 * @param certifiedKey the key it certifies, for Ed25519 certificates (null for other types)
 * @param signedBy     the CA's public key
 * @param signedData   what the CA signed: the certificate up to its signature
 * @param signature    the signature, in SSH's encoding (algorithm name, then the signature's bytes)
 */
public record SshCertificate(String type, long serial, boolean userCertificate, String keyId, List<String> principals,
        Instant validAfter, Instant validBefore, PublicKeyLine certifiedKey, PublicKeyLine signedBy, byte[] signedData,
        byte[] signature) {

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
        PublicKeyLine certifiedKey = null;
        for (int i = 0; i < KEY_FIELDS.get(type); i++) {
            byte[] field = in.readBytes(); // the certified key
            if (type.equals(UserCertificateAuthority.CERTIFICATE_TYPE)) {
                certifiedKey = PublicKeyLine.of(SshWire.writer().string(Ed25519KeyPair.TYPE).string(field).toByteArray());
            }
        }
        long serial = in.uint64();
        boolean user = in.uint32() == 1;
        String keyId = in.readString();
        List<String> principals = new ArrayList<>();
        SshWire.Reader names = SshWire.reader(in.readBytes());
        while (names.remaining() > 0) {
            principals.add(names.readString());
        }
        Instant validAfter = instant(in.uint64());
        Instant validBefore = instant(in.uint64());
        in.readBytes(); // critical options
        in.readBytes(); // extensions
        in.readBytes(); // reserved
        PublicKeyLine signedBy = PublicKeyLine.of(in.readBytes());
        byte[] signedData = java.util.Arrays.copyOf(blob, blob.length - in.remaining());
        byte[] signature = in.readBytes();
        return new SshCertificate(type, serial, user, keyId, List.copyOf(principals), validAfter, validBefore,
                certifiedKey, signedBy, signedData, signature);
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
