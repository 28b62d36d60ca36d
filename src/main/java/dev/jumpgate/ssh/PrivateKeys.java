package dev.jumpgate.ssh;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.KeyPair;

/** What the agent's SSH library makes of a private key, asked before an agent is started with it. */
public final class PrivateKeys {

    private PrivateKeys() {
    }

    /**
     * Why the agent could not log in with this key, or null when it can: it must be a private key the agent reads
     * (OpenSSH's format, or PEM) without a passphrase. The message never quotes the key.
     */
    public static String problem(byte[] privateKey) {
        KeyPair pair;
        try {
            pair = KeyPair.load(new JSch(), privateKey, null);
        } catch (JSchException | RuntimeException e) {
            return "is not a private key (expected what ssh-keygen writes: -----BEGIN OPENSSH PRIVATE KEY-----)";
        }
        try {
            if (pair.isEncrypted()) {
                return "is protected by a passphrase; the agent needs the key without one (ssh-keygen -p -N '')";
            }
            return null;
        } finally {
            pair.dispose();
        }
    }
}
