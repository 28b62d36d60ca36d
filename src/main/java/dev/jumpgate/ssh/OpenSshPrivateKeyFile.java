package dev.jumpgate.ssh;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * An OpenSSH private key file ("openssh-key-v1", PROTOCOL.key in OpenSSH's sources: what ssh-keygen writes since
 * OpenSSH 7.8) taken apart: its cipher, the first key's public blob, stored in the clear, and the private section,
 * which is readable only when the cipher is "none".
 */
record OpenSshPrivateKeyFile(String cipher, byte[] publicBlob, byte[] privateSection) {

    private static final String BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
    private static final String END = "-----END OPENSSH PRIVATE KEY-----";
    private static final byte[] MAGIC = "openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII);

    static OpenSshPrivateKeyFile parse(String pem) {
        int from = pem == null ? -1 : pem.indexOf(BEGIN);
        int to = pem == null ? -1 : pem.indexOf(END);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("not an OpenSSH private key (BEGIN OPENSSH PRIVATE KEY)");
        }
        byte[] body;
        try {
            body = Base64.getMimeDecoder().decode(pem.substring(from + BEGIN.length(), to));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the OpenSSH private key is not valid base64");
        }
        if (body.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(body, MAGIC.length), MAGIC)) {
            throw new IllegalArgumentException("not an openssh-key-v1 private key");
        }
        SshWire.Reader reader = SshWire.reader(Arrays.copyOfRange(body, MAGIC.length, body.length));
        String cipher = reader.readString();
        reader.readString(); // kdf
        reader.readBytes(); // kdf options
        if (reader.uint32() < 1) {
            throw new IllegalArgumentException("the OpenSSH private key file holds no key");
        }
        return new OpenSshPrivateKeyFile(cipher, reader.readBytes(), reader.readBytes());
    }

    /**
     * The 32-byte seed of the file's Ed25519 key (RFC 8032's private key). IllegalArgumentException when the file is
     * encrypted or holds another type of key.
     */
    byte[] ed25519Seed() {
        if (!"none".equals(cipher)) {
            throw new IllegalArgumentException("the key is protected by a passphrase (ssh-keygen -p -N '' removes it)");
        }
        SshWire.Reader reader = SshWire.reader(privateSection);
        if (reader.uint32() != reader.uint32()) {
            throw new IllegalArgumentException("the OpenSSH private key is damaged (its check words differ)");
        }
        String type = reader.readString();
        if (!Ed25519KeyPair.TYPE.equals(type)) {
            throw new IllegalArgumentException("the key is " + type + ", not " + Ed25519KeyPair.TYPE);
        }
        reader.readBytes(); // the public key
        byte[] secret = reader.readBytes(); // seed, then the public key
        if (secret.length != 64) {
            throw new IllegalArgumentException("the Ed25519 private key is damaged");
        }
        return Arrays.copyOf(secret, 32);
    }
}
