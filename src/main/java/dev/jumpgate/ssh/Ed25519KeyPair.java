package dev.jumpgate.ssh;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Base64;

/**
 * A fresh ed25519 key pair in the formats OpenSSH reads: the private key as an unencrypted "openssh-key-v1" PEM
 * (what {@code ssh-keygen -t ed25519 -N ''} writes) and the public key as an authorized_keys line.
 * Generated with the JDK's own Ed25519 so that the operator needs no SSH library.
 */
public record Ed25519KeyPair(String privateKeyPem, PublicKeyLine publicKey) {

    static final String TYPE = "ssh-ed25519";
    private static final int BLOCK_SIZE = 8; // cipher "none"

    public static Ed25519KeyPair generate(String comment) {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every Java 15+ runtime", e);
        }
        byte[] publicKey = encodePoint((EdECPublicKey) pair.getPublic());
        byte[] seed = ((EdECPrivateKey) pair.getPrivate()).getBytes()
                .orElseThrow(() -> new IllegalStateException("the JDK did not expose the Ed25519 seed"));
        byte[] publicBlob = SshWire.writer().string(TYPE).string(publicKey).toByteArray();
        return new Ed25519KeyPair(opensshPem(publicBlob, publicKey, seed, comment),
                new PublicKeyLine(TYPE, publicBlob, comment));
    }

    /** RFC 8032 encoding: y little-endian, the sign of x in the top bit of the last byte. */
    private static byte[] encodePoint(EdECPublicKey key) {
        BigInteger y = key.getPoint().getY();
        byte[] bigEndian = y.toByteArray();
        byte[] encoded = new byte[32];
        for (int i = 0; i < 32 && i < bigEndian.length; i++) {
            encoded[i] = bigEndian[bigEndian.length - 1 - i];
        }
        if (key.getPoint().isXOdd()) {
            encoded[31] |= (byte) 0x80;
        }
        return encoded;
    }

    /** An Ed25519 public key line as the JDK's key: {@link #encodePoint}'s encoding read back. */
    static PublicKey publicKeyOf(PublicKeyLine line) throws GeneralSecurityException {
        SshWire.Reader reader = SshWire.reader(line.blob());
        reader.readString();
        byte[] encoded = reader.readBytes();
        if (encoded.length != 32) {
            throw new IllegalArgumentException("not an Ed25519 public key");
        }
        byte[] bigEndian = new byte[32];
        for (int i = 0; i < 32; i++) {
            bigEndian[i] = encoded[31 - i];
        }
        boolean xOdd = (bigEndian[0] & 0x80) != 0;
        bigEndian[0] &= 0x7f;
        return KeyFactory.getInstance("Ed25519").generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519,
                new EdECPoint(xOdd, new BigInteger(1, bigEndian))));
    }

    /** The layout of PROTOCOL.key in OpenSSH's sources, with cipher and kdf "none". */
    private static String opensshPem(byte[] publicBlob, byte[] publicKey, byte[] seed, String comment) {
        int check = new SecureRandom().nextInt();
        byte[] secret = new byte[64];
        System.arraycopy(seed, 0, secret, 0, 32);
        System.arraycopy(publicKey, 0, secret, 32, 32);
        SshWire.Writer privateSection = SshWire.writer()
                .uint32(check).uint32(check)
                .string(TYPE).string(publicKey).string(secret).string(comment);
        for (int pad = 1; privateSection.size() % BLOCK_SIZE != 0; pad++) {
            privateSection.raw(new byte[] {(byte) pad});
        }
        byte[] body = SshWire.writer()
                .raw("openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII))
                .string("none").string("none").string(new byte[0])
                .uint32(1).string(publicBlob).string(privateSection.toByteArray())
                .toByteArray();
        String base64 = Base64.getMimeEncoder(70, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(body);
        return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64 + "\n-----END OPENSSH PRIVATE KEY-----\n";
    }

    @Override
    public String toString() {
        return "Ed25519KeyPair[" + publicKey.fingerprint() + "]"; // never the private half
    }
}
