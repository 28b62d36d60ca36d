package dev.jumpgate.testing;

import dev.jumpgate.agent.Identity;
import dev.jumpgate.ssh.Ed25519KeyPair;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What a relay-tier test of the agent holds: one key (the agent's identity), the relays that accept it, and whatever
 * else must be closed after the test, in the order it was made.
 */
public final class RelayRig implements AutoCloseable {

    private final Ed25519KeyPair key;
    private final Identity identity;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    public RelayRig(String keyComment) {
        key = Ed25519KeyPair.generate(keyComment);
        identity = Identity.of("test key", key.privateKeyPem().getBytes(StandardCharsets.US_ASCII));
    }

    public Ed25519KeyPair key() {
        return key;
    }

    public Identity identity() {
        return identity;
    }

    /** A stock sshd that accepts the key as a bare authorized_keys line, closed after the test. */
    public OpenSshRelay relay(String... extraConfig) {
        OpenSshRelay relay = closedAfter(OpenSshRelay.start(extraConfig));
        relay.authorize(key.publicKey().toString());
        return relay;
    }

    public <T extends AutoCloseable> T closedAfter(T resource) {
        cleanup.add(resource);
        return resource;
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }
}
