package dev.jumpgate.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.api.v1alpha1.AuthSpec;
import dev.jumpgate.api.v1alpha1.CertificateStatus;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.SecretKeyRef;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import dev.jumpgate.contract.AgentContract;
import dev.jumpgate.contract.PoolConfig;
import dev.jumpgate.operator.AgentKey;
import dev.jumpgate.operator.status.StatusAggregator;
import dev.jumpgate.ssh.Ed25519KeyPair;
import dev.jumpgate.ssh.PublicKeyLine;
import dev.jumpgate.ssh.SshCertificate;
import dev.jumpgate.ssh.UserCertificateAuthority;
import dev.jumpgate.testing.Forgery;
import dev.jumpgate.testing.RealApiServerResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 3 on a real kube-apiserver: the operator as a user CA (the chart's userCA: a CA key file), with certificates
 * of the shortest validity it issues (a minute) so that a renewal comes within the test. That sshd takes what it
 * signs is UserCertificateRelayTest's; here, what the operator writes and says, and what it refuses to sign.
 */
@Tag("apiserver")
@QuarkusTest
@TestProfile(UserCertificateAuthorityOnRealApiServerTest.WithAUserCa.class)
class UserCertificateAuthorityOnRealApiServerTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final Ed25519KeyPair CA = Ed25519KeyPair.generate("jumpgate-user-ca");
    private static final String OPERATOR_NAMESPACE = "jumpgate-ops";
    private static final String CA_SECRET = "jumpgate-user-ca";

    /** The real API server's profile, with a CA key file as the chart's userCA.secretName mounts it. */
    public static class WithAUserCa extends RealApiServerResource.Profile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>(super.getConfigOverrides());
            config.put("jumpgate.user-ca.file", writeCaKey().toString());
            config.put("jumpgate.user-ca.validity", "1m");
            config.put("jumpgate.user-ca.secret", CA_SECRET);
            config.put("jumpgate.operator-namespace", OPERATOR_NAMESPACE);
            return config;
        }

        private static Path writeCaKey() {
            try {
                Path file = Files.createTempFile("jumpgate-user-ca", "");
                Files.writeString(file, CA.privateKeyPem());
                file.toFile().deleteOnExit();
                return file;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Inject
    KubernetesClient client;

    @Inject
    Operator operator;

    @BeforeEach
    void startOperator() {
        operator.start();
    }

    @Test
    void aGeneratedKeyGetsACertificateForItsPrincipalAndItsAgentIsToldWhereItIs() {
        String ns = namespace("ca-issues");
        tunnel(ns, null);

        CertificateStatus said = await().atMost(PATIENCE).until(() -> certificateStatus(ns), c -> c != null);
        SshCertificate certificate = certificate(keySecret(ns));
        String principal = "jumpgate:" + ns + "/lab";
        assertThat(certificate.principals()).containsExactly(principal);
        assertThat(certificate.signedBy().sameKey(CA.publicKey())).isTrue();
        assertThat(certificate.certifiedKey().toKeyString()).isEqualTo(current(ns).getStatus().getPublicKey());
        assertThat(Duration.between(certificate.validAfter(), certificate.validBefore()))
                .as("a minute, started five minutes early for a relay whose clock is behind")
                .isEqualTo(Duration.ofMinutes(6));

        assertThat(said.getIssuer()).isEqualTo("Operator");
        assertThat(said.getPrincipals()).containsExactly(principal);
        assertThat(said.getSerial()).isEqualTo(Long.toUnsignedString(certificate.serial()));
        assertThat(said.getValidBefore()).isEqualTo(certificate.validBefore().toString());
        assertThat(said.getAuthority()).isEqualTo(CA.publicKey().fingerprint());
        assertThat(Instant.parse(said.getRenewAfter())).isBetween(certificate.validAfter(), certificate.validBefore());
        assertThat(current(ns).getStatus().getAuthorizedPrincipal())
                .startsWith("restrict,port-forwarding,").endsWith(" " + principal);

        await().atMost(PATIENCE).until(() -> member(ns) != null
                && member(ns).keyVersion().equals(version(keySecret(ns))));
        assertThat(member(ns).keyCertificateKey()).as("the agent reads the certificate beside the key")
                .isEqualTo(AgentKey.CERTIFICATE);
    }

    @Test
    void theCertificateIsIssuedAnewAtHalfItsValidityForTheSameKey() {
        String ns = namespace("ca-renews");
        tunnel(ns, null);
        await().atMost(PATIENCE).until(() -> certificateStatus(ns) != null);
        Secret first = keySecret(ns);
        SshCertificate before = certificate(first);

        Secret renewed = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                .until(() -> keySecret(ns), s -> certificate(s).serial() != before.serial());
        SshCertificate after = certificate(renewed);
        assertThat(after.validBefore()).isAfter(before.validBefore());
        assertThat(renewed.getData().get(AgentKey.PRIVATE_KEY)).as("the same key: the agent's session stays")
                .isEqualTo(first.getData().get(AgentKey.PRIVATE_KEY));
        await().atMost(PATIENCE).until(() -> certificateStatus(ns) != null
                && certificateStatus(ns).getSerial().equals(Long.toUnsignedString(after.serial())));
    }

    /**
     * Whoever may write Secrets in the tunnel's namespace may put a certificate into the generated key's Secret that
     * claims the operator's CA (signed by another), or bring a key of their own: the operator replaces the first with
     * its own and signs nothing for the second (its CA vouches only for keys it made), and names a missing
     * certificate of a user's Secret.
     */
    @Test
    void theOperatorSignsOnlyTheKeysItMadeAndReplacesACertificateItDidNotIssue() {
        String ns = namespace("ca-refuses");
        tunnel(ns, null);
        await().atMost(PATIENCE).until(() -> certificateStatus(ns) != null);
        Ed25519KeyPair otherCa = Ed25519KeyPair.generate("other-ca");
        Instant now = Instant.now();
        String planted = Forgery.claimingToBeBy(UserCertificateAuthority.fromOpenSshPrivateKey(
                otherCa.privateKeyPem()).sign(PublicKeyLine.parse(current(ns).getStatus().getPublicKey()), "planted",
                        // In every other respect one the operator would have issued, and not due for renewal for
                        // 30 s: only its signature tells it apart.
                        List.of("jumpgate:" + ns + "/lab"), now.minus(Duration.ofMinutes(5)), now.plusSeconds(60), ""),
                otherCa, CA);
        assertThat(certificate(planted).signedBy().sameKey(CA.publicKey())).as("it claims the operator's CA").isTrue();
        client.secrets().inNamespace(ns).withName(keySecret(ns).getMetadata().getName()).edit(s -> {
            s.getData().put(AgentKey.CERTIFICATE, base64(planted));
            return s;
        });
        UserCertificateAuthority operators = UserCertificateAuthority.fromOpenSshPrivateKey(CA.privateKeyPem());
        await().atMost(Duration.ofSeconds(10)).until(() -> operators.signed(certificate(keySecret(ns)))
                && certificateStatus(ns).getSerial().equals(Long.toUnsignedString(certificate(keySecret(ns)).serial())));

        Ed25519KeyPair own = Ed25519KeyPair.generate("own");
        client.resource(new SecretBuilder().withNewMetadata().withName("own-key").withNamespace(ns).endMetadata()
                .addToData("ssh-privatekey", base64(own.privateKeyPem())).build()).create();
        tunnel(ns, "own", keyRef("own-key", null));
        await().atMost(PATIENCE).until(() -> current(ns, "own").getStatus() != null
                && own.publicKey().toKeyString().equals(current(ns, "own").getStatus().getPublicKey()));
        assertThat(current(ns, "own").getStatus().getCertificate()).isNull();
        assertThat(client.secrets().inNamespace(ns).withName("own-key").get().getData())
                .doesNotContainKey(AgentKey.CERTIFICATE);

        tunnel(ns, "named", keyRef("own-key", "ssh-certificate"));
        await().atMost(PATIENCE).until(() -> current(ns, "named").getStatus() != null
                && StatusAggregator.readyCondition(current(ns, "named").getStatus()) != null
                && Reasons.SECRET_MISSING.equals(StatusAggregator.readyCondition(current(ns, "named").getStatus()).getReason()));
        assertThat(StatusAggregator.readyCondition(current(ns, "named").getStatus()).getMessage())
                .contains("no data key ssh-certificate");
    }

    /**
     * The CA key's Secret sits in the operator's namespace, where (by default) tunnels are watched too: named as a
     * tunnel's key, it would be handed to that tunnel's agent. It is refused, and no agent's Role reaches it.
     */
    @Test
    void noTunnelMayUseTheOperatorsCaKeyAsItsKey() {
        String ns = namespace(OPERATOR_NAMESPACE);
        client.resource(new SecretBuilder().withNewMetadata().withName(CA_SECRET).withNamespace(ns).endMetadata()
                .addToData("ca", base64(CA.privateKeyPem())).build()).create();
        tunnel(ns, "thief", keyRef(CA_SECRET, null));

        await().atMost(PATIENCE).until(() -> current(ns, "thief").getStatus() != null
                && StatusAggregator.readyCondition(current(ns, "thief").getStatus()) != null
                && Reasons.KEY_INVALID.equals(StatusAggregator.readyCondition(current(ns, "thief").getStatus()).getReason()));
        assertThat(StatusAggregator.readyCondition(current(ns, "thief").getStatus()).getMessage())
                .contains("operator's user CA key").doesNotContain("PRIVATE KEY");
        assertThat(client.rbac().roles().inNamespace(ns).list().getItems()).allSatisfy(role ->
                assertThat(role.getRules()).noneSatisfy(rule -> assertThat(rule.getResourceNames()).contains(CA_SECRET)));
    }

    private String namespace(String name) {
        client.resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build()).serverSideApply();
        return name;
    }

    private void tunnel(String namespace, SecretKeyRef key) {
        tunnel(namespace, "lab", key);
    }

    private void tunnel(String namespace, String name, SecretKeyRef key) {
        ReverseTunnelSpec spec = new ReverseTunnelSpec();
        spec.getRelay().setHost("127.0.0.1");
        spec.getRelay().setUser("tunnel");
        spec.getRelay().setHostKeys(new ArrayList<>(List.of(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN")));
        spec.setForwards(new ArrayList<>(List.of(new ForwardSpec("ssh", new RemoteEndpoint("127.0.0.1", 4040),
                new TargetEndpoint("127.0.0.1", 22)))));
        if (key != null) {
            AuthSpec auth = new AuthSpec();
            auth.setSecretRef(key);
            spec.setAuth(auth);
        }
        ReverseTunnel tunnel = new ReverseTunnel();
        tunnel.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
        tunnel.setSpec(spec);
        client.resource(tunnel).create();
    }

    private ReverseTunnel current(String namespace) {
        return current(namespace, "lab");
    }

    private ReverseTunnel current(String namespace, String name) {
        return client.resources(ReverseTunnel.class).inNamespace(namespace).withName(name).get();
    }

    private CertificateStatus certificateStatus(String namespace) {
        ReverseTunnel tunnel = current(namespace);
        return tunnel.getStatus() == null ? null : tunnel.getStatus().getCertificate();
    }

    private Secret keySecret(String namespace) {
        return client.secrets().inNamespace(namespace).withLabel("jumpgate.dev/tunnel", "lab").list().getItems()
                .stream().filter(s -> s.getData().containsKey(AgentKey.PRIVATE_KEY)).findFirst().orElseThrow();
    }

    private static SshCertificate certificate(Secret secret) {
        return certificate(new String(Base64.getDecoder().decode(secret.getData().get(AgentKey.CERTIFICATE)),
                StandardCharsets.US_ASCII));
    }

    private static SshCertificate certificate(String line) {
        return SshCertificate.parse(line);
    }

    private static String version(Secret secret) {
        return secret.getMetadata().getUid() + ":" + secret.getMetadata().getResourceVersion();
    }

    private PoolConfig.Member member(String namespace) {
        Secret list = client.secrets().inNamespace(namespace).withName("default-pool").get();
        if (list == null) {
            return null;
        }
        PoolConfig config = Serialization.unmarshal(new String(Base64.getDecoder().decode(
                list.getData().get(AgentContract.POOL_CONFIG_KEY)), StandardCharsets.UTF_8), PoolConfig.class);
        return config.members().stream().filter(m -> m.tunnel().equals("lab")).findFirst().orElse(null);
    }

    private static SecretKeyRef keyRef(String secret, String certificateKey) {
        SecretKeyRef ref = new SecretKeyRef();
        ref.setName(secret);
        ref.setCertificateKey(certificateKey);
        return ref;
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
