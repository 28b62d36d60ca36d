package dev.jumpgate.contract;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * What an agent pod serves: the tunnels handed to it, as the operator writes them into the agent's Secret
 * ({@link AgentContract#POOL_CONFIG_KEY}) and the agent watches it. Each member names where its key is (a Secret the
 * agent's Role lets it get, by name) and which Lease it reports through; the agent is never given a tunnel to read.
 * A member whose entry is unchanged is left alone: its session never notices the others come and go.
 *
 * @param members the pool's tunnels, by name
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PoolConfig(List<Member> members) {

    /**
     * The most the list's JSON may take: a Secret's data holds at most 1 MiB, and its metadata (an owner reference
     * per member) goes beside it in the same object. About 1,000 members of a few forwards each.
     */
    public static final int MAX_JSON_BYTES = 900 * 1024;

    /**
     * One tunnel of the pool.
     *
     * @param tunnel          the ReverseTunnel's name
     * @param generation      the generation of its spec
     * @param spec            the spec to apply, as JSON (a ReverseTunnelSpec): compared as a tree, so an entry that did
     *                        not change is equal to the one before, field by field
     * @param acceptedHostKey the relay host key its status has pinned on first use; null when none
     * @param lease           the Lease its reports go to
     * @param keySecret       the Secret holding its private key
     * @param keyDataKey      the data key of the private key in it
     * @param keyVersion      the Secret's uid:resourceVersion: a new one means a new key, read again
     * @param keyCertificateKey the data key of the key's OpenSSH certificate in the same Secret (the user's, or the
     *                        one the operator's user CA issued); null when it has none
     * @param proxySecret     the Secret holding its egress proxy's username and password (kubernetes.io/basic-auth
     *                        keys); null when its proxy asks for none
     * @param proxyVersion    that Secret's uid:resourceVersion: new credentials are read again
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Member(String tunnel, long generation, JsonNode spec, String acceptedHostKey, String lease,
            String keySecret, String keyDataKey, String keyVersion, String keyCertificateKey, String proxySecret,
            String proxyVersion) {

        /** A member whose key has no certificate and whose proxy, if any, asks for no credentials. */
        public Member(String tunnel, long generation, JsonNode spec, String acceptedHostKey, String lease,
                String keySecret, String keyDataKey, String keyVersion) {
            this(tunnel, generation, spec, acceptedHostKey, lease, keySecret, keyDataKey, keyVersion, null, null, null);
        }

        /** The same entry with the Secrets' versions (and the certificate) of {@code other}. */
        public Member withSecretVersionsOf(Member other) {
            return new Member(tunnel, generation, spec, acceptedHostKey, lease, keySecret, keyDataKey, other.keyVersion,
                    other.keyCertificateKey, proxySecret, other.proxyVersion);
        }

        /** Whether the two entries name the same versions of the same Secrets: nothing to read again. */
        public boolean sameSecretsAs(Member other) {
            return other != null && java.util.Objects.equals(keySecret, other.keySecret)
                    && java.util.Objects.equals(keyVersion, other.keyVersion)
                    && java.util.Objects.equals(keyCertificateKey, other.keyCertificateKey)
                    && java.util.Objects.equals(proxySecret, other.proxySecret)
                    && java.util.Objects.equals(proxyVersion, other.proxyVersion);
        }
    }

    /** Data keys of a kubernetes.io/basic-auth Secret, which a proxy's credentials come in. */
    public static final String USERNAME = "username";
    public static final String PASSWORD = "password";

    public PoolConfig {
        members = members == null ? List.of() : List.copyOf(members);
    }
}
