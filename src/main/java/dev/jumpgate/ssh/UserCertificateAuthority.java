package dev.jumpgate.ssh;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.NamedParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * An Ed25519 user CA that signs OpenSSH user certificates (PROTOCOL.certkeys) for Ed25519 keys, with the JDK's own
 * Ed25519: what {@code ssh-keygen -s ca -I id -n principals -V from:to -O clear -O permit-port-forwarding key.pub}
 * makes. The certificates carry no critical options and one extension, permit-port-forwarding: no pty, no agent or
 * X11 forwarding, no user rc, whatever the relay's account allows.
 */
public final class UserCertificateAuthority {

    public static final String CERTIFICATE_TYPE = "ssh-ed25519-cert-v01@openssh.com";
    private static final int USER_CERTIFICATE = 1;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PrivateKey signingKey;
    private final PublicKeyLine publicKey;

    private UserCertificateAuthority(PrivateKey signingKey, PublicKeyLine publicKey) {
        this.signingKey = signingKey;
        this.publicKey = publicKey;
    }

    /**
     * The CA from its private key as {@code ssh-keygen -t ed25519 -N ''} writes it. IllegalArgumentException, with
     * why and never a word of the key, when it is not an unencrypted Ed25519 key in OpenSSH's format, or its private
     * and public halves are not one key (every certificate it signed would be refused).
     */
    public static UserCertificateAuthority fromOpenSshPrivateKey(String pem) {
        OpenSshPrivateKeyFile file = OpenSshPrivateKeyFile.parse(pem);
        byte[] seed = file.ed25519Seed();
        PrivateKey key;
        try {
            key = KeyFactory.getInstance("Ed25519")
                    .generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, seed));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every Java 15+ runtime", e);
        }
        UserCertificateAuthority authority = new UserCertificateAuthority(key, PublicKeyLine.of(file.publicBlob()));
        byte[] probe = "jumpgate: do the halves make one key".getBytes(StandardCharsets.US_ASCII);
        if (!authority.verifies(probe, signature(key, probe))) {
            throw new IllegalArgumentException("its private and public halves are not one key");
        }
        return authority;
    }

    /**
     * Whether this CA signed the certificate: its signature checks out with this CA's key (not only that it names
     * the CA: anyone can write that into a certificate).
     */
    public boolean signed(SshCertificate certificate) {
        if (!certificate.signedBy().sameKey(publicKey)) {
            return false;
        }
        try {
            SshWire.Reader signature = SshWire.reader(certificate.signature());
            return Ed25519KeyPair.TYPE.equals(signature.readString())
                    && verifies(certificate.signedData(), signature.readBytes());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private boolean verifies(byte[] data, byte[] signature) {
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(Ed25519KeyPair.publicKeyOf(publicKey));
            verifier.update(data);
            return verifier.verify(signature);
        } catch (SignatureException | IllegalArgumentException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every Java 15+ runtime", e);
        }
    }

    private static byte[] signature(PrivateKey key, byte[] data) {
        try {
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(key);
            signer.update(data);
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every Java 15+ runtime", e);
        }
    }

    /** The CA's public key: the relay's TrustedUserCAKeys line. */
    public PublicKeyLine publicKey() {
        return publicKey;
    }

    /**
     * A user certificate for {@code key} (an Ed25519 public key), as a -cert.pub line. A random serial and nonce;
     * valid from {@code validAfter} (inclusive) to {@code validBefore} (exclusive), to the second.
     */
    public String sign(PublicKeyLine key, String keyId, List<String> principals, Instant validAfter,
            Instant validBefore, String comment) {
        SshWire.Reader certified = SshWire.reader(key.blob());
        if (!Ed25519KeyPair.TYPE.equals(certified.readString())) {
            throw new IllegalArgumentException("only " + Ed25519KeyPair.TYPE + " keys are certified, not " + key.type());
        }
        byte[] point = certified.readBytes();
        if (principals.isEmpty()) {
            throw new IllegalArgumentException("a certificate without principals is valid for any of them");
        }
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        SshWire.Writer names = SshWire.writer();
        principals.forEach(names::string);
        SshWire.Writer extensions = SshWire.writer().string("permit-port-forwarding").string(new byte[0]);
        byte[] signed = SshWire.writer()
                .string(CERTIFICATE_TYPE)
                .string(nonce)
                .string(point)
                .uint64(RANDOM.nextLong() & Long.MAX_VALUE)
                .uint32(USER_CERTIFICATE)
                .string(keyId)
                .string(names.toByteArray())
                .uint64(validAfter.getEpochSecond())
                .uint64(validBefore.getEpochSecond())
                .string(new byte[0]) // critical options: none
                .string(extensions.toByteArray())
                .string(new byte[0]) // reserved
                .string(publicKey.blob())
                .toByteArray();
        byte[] signature = signature(signingKey, signed);
        byte[] certificate = SshWire.writer()
                .raw(signed)
                .string(SshWire.writer().string(Ed25519KeyPair.TYPE).string(signature).toByteArray())
                .toByteArray();
        return CERTIFICATE_TYPE + " " + Base64.getEncoder().encodeToString(certificate)
                + (comment == null || comment.isEmpty() ? "" : " " + comment);
    }

    @Override
    public String toString() {
        return "UserCertificateAuthority[" + publicKey.fingerprint() + "]"; // never the private half
    }
}
