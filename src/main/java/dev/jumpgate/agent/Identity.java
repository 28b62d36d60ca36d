package dev.jumpgate.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The agent's private key: where it came from, and its bytes, which nothing prints.
 * Read when the agent connects, so a key rotated in its file or Secret is picked up by the next session.
 */
public final class Identity {

    private final String source;
    private final byte[] privateKey;

    private Identity(String source, byte[] privateKey) {
        this.source = source;
        this.privateKey = privateKey;
    }

    public static Identity of(String source, byte[] privateKey) {
        return new Identity(source, privateKey.clone());
    }

    public static Identity read(Path file) throws IOException {
        return new Identity(file.toString(), Files.readAllBytes(file));
    }

    public String source() {
        return source;
    }

    byte[] privateKey() {
        return privateKey.clone();
    }

    boolean sameKey(Identity other) {
        return other != null && Arrays.equals(privateKey, other.privateKey);
    }

    @Override
    public String toString() {
        return "Identity[" + source + "]";
    }
}
