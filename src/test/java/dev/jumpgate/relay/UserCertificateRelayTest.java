package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.Identity;
import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.ssh.UserCertificateAuthority;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.HostCommand;
import dev.jumpgate.testing.HostCommand.Result;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: a relay that trusts a user CA (TrustedUserCAKeys) and lists the tunnel's principal with its restrictions
 * in an AuthorizedPrincipalsFile (status.authorizedPrincipal), instead of the key in authorized_keys. The CA is
 * ssh-keygen's, as an organisation's would be (or Vault's, or step-ca's); the relay is a real sshd. The agent logs in
 * with the certificate; whoever steals the key and certificate gets what the principal's line allows and no more, and
 * a certificate that expired, or names another principal, or comes from another CA, gets nothing.
 */
@Tag("relay")
class UserCertificateRelayTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final Duration SHORT = Duration.ofSeconds(20);

    private final RelayRig rig = new RelayRig("jumpgate:certs");
    private Path dir;
    private Path ca;
    private Path keyFile;
    private EchoServer target;
    private OpenSshRelay relay;
    private ReverseTunnelSpec spec;
    private TunnelAgent agent;
    private int door;

    @BeforeEach
    void aRelayThatTrustsTheCa() throws Exception {
        dir = Files.createTempDirectory("jumpgate-ca");
        ca = dir.resolve("user_ca");
        HostCommand.SSH_KEYGEN.run(SHORT, "-q", "-t", "ed25519", "-N", "", "-C", "user-ca", "-f", ca.toString()).orThrow();
        keyFile = dir.resolve("id_ed25519");
        Files.writeString(keyFile, rig.key().privateKeyPem());
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(dir.resolve("id_ed25519.pub"), rig.key().publicKey().toString() + "\n");

        target = rig.closedAfter(new EchoServer());
        Path principals = dir.resolve("principals");
        relay = rig.closedAfter(OpenSshRelay.start("TrustedUserCAKeys " + ca + ".pub",
                "AuthorizedPrincipalsFile " + principals));
        relay.authorize(""); // no key line: the CA and the principal's line only
        door = OpenSshRelay.freePort();
        spec = spec(relay, forward("ssh", door, target.port()));
        ReverseTunnel tunnel = new ReverseTunnel();
        tunnel.setMetadata(new ObjectMetaBuilder().withName("certs").build());
        tunnel.setSpec(spec);
        Files.writeString(principals, tunnel.authorizedPrincipalLine(spec.getRelay()) + "\n");
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        rig.close();
    }

    /** A certificate for the key by the CA (or another), with these principals and validity (ssh-keygen -V). */
    private byte[] certificate(Path authority, String principals, String validity) throws Exception {
        Path pub = dir.resolve("id_ed25519.pub");
        Files.deleteIfExists(dir.resolve("id_ed25519-cert.pub"));
        HostCommand.SSH_KEYGEN.run(SHORT, "-q", "-s", authority.toString(), "-I", "jumpgate-test", "-n", principals,
                "-V", validity, "-O", "clear", "-O", "permit-port-forwarding", pub.toString()).orThrow();
        return Files.readAllBytes(dir.resolve("id_ed25519-cert.pub"));
    }

    private AgentReport run(byte[] certificate) {
        agent = new TunnelAgent(report -> { }).start();
        agent.apply(new TunnelConfig(1, spec, Identity.of("test", rig.key().privateKeyPem().getBytes(StandardCharsets.US_ASCII),
                certificate), null));
        await().atMost(PATIENCE).until(() -> agent.report() != null && (agent.report().allForwardsBound()
                || agent.report().lastError() != null));
        return agent.report();
    }

    @Test
    void withItsCertificateTheAgentHoldsTheForwardAndTheRelayRunsNothingForIt() throws Exception {
        AgentReport report = run(certificate(ca, "jumpgate:certs", "+1h"));

        assertThat(report.forwards()).extracting(f -> f.state()).containsExactly(ForwardState.Bound);
        assertThat(EchoClient.echoes(door, 64 * 1024)).isTrue();
        await().atMost(PATIENCE).until(() -> agent.report().relayRunsCommands() != null
                && agent.report().relayOpensAnywhere() != null);
        assertThat(agent.report().relayRunsCommands()).isFalse();
        assertThat(agent.report().relayOpensAnywhere()).isFalse();
    }

    @Test
    void theKeyAloneAnExpiredCertificateOneForAnotherPrincipalOrFromAnotherCaGetNothing() throws Exception {
        Path otherCa = dir.resolve("other_ca");
        HostCommand.SSH_KEYGEN.run(SHORT, "-q", "-t", "ed25519", "-N", "", "-f", otherCa.toString()).orThrow();
        List<byte[]> refused = new ArrayList<>();
        refused.add(null);
        refused.add(certificate(ca, "jumpgate:certs", "-2h:-1h"));
        refused.add(certificate(ca, "jumpgate:other", "+1h"));
        refused.add(certificate(otherCa, "jumpgate:certs", "+1h"));
        // What the refusal says of each: the certificate's own account of itself, where there is one.
        List<String> says = List.of("refused the key", "expired at", "principals [jumpgate:other]) is valid until",
                "principals [jumpgate:certs]) is valid until");
        for (int i = 0; i < refused.size(); i++) {
            byte[] certificate = refused.get(i);
            AgentReport report = run(certificate);
            assertThat(report.reason()).isEqualTo(Reasons.AUTHENTICATION_FAILED);
            assertThat(report.message()).contains(says.get(i));
            assertThat(report.forwards()).extracting(f -> f.state()).doesNotContain(ForwardState.Bound);
            agent.close();
            agent = null;
        }
    }

    /**
     * The thief's side: the key and its certificate in hand, OpenSSH's client; against the relay with the README's
     * block for the account and against one with only the CA and the principal's line, which alone must hold.
     */
    @Test
    void withTheKeyAndCertificateInHandAThiefGetsNoShellNoOtherListenAndNoConnectionElsewhere() throws Exception {
        certificate(ca, "jumpgate:certs", "+1h");
        OpenSshRelay bare = rig.closedAfter(OpenSshRelay.withoutRecommendedBlock("TrustedUserCAKeys " + ca + ".pub",
                "AuthorizedPrincipalsFile " + dir.resolve("principals")));
        bare.authorize("");
        for (OpenSshRelay each : List.of(relay, bare)) {
            List<String> options = List.of("-p", Integer.toString(each.port()), "-i", keyFile.toString(),
                    "-o", "CertificateFile=" + dir.resolve("id_ed25519-cert.pub"), "-o", "IdentitiesOnly=yes",
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "ConnectTimeout=5");
            String where = each == relay ? "with the block" : "the principal's line alone";

            Result command = ssh(options, each.user() + "@127.0.0.1", "id");
            assertThat(command.exitCode()).as(where).isNotZero();
            assertThat(command.output()).as(where).doesNotContain("uid=") // the line's forced command, or the block's
                    .containsAnyOf("this key only holds a Jumpgate tunnel", "this account only holds Jumpgate tunnels");

            int other = OpenSshRelay.freePort();
            Result listen = ssh(options, "-N", "-o", "ExitOnForwardFailure=yes", "-R",
                    "127.0.0.1:" + other + ":127.0.0.1:22", each.user() + "@127.0.0.1");
            assertThat(listen.exitCode()).as(where).isNotZero();
            assertThat(listen.output()).as(where).contains("remote port forwarding failed");

            Result elsewhere = ssh(options, "-W", "127.0.0.1:" + target.port(), each.user() + "@127.0.0.1");
            assertThat(elsewhere.exitCode()).as(where).isNotZero();
        }
        assertThat(target.connectionsAccepted()).as("no -W reached the target").isZero();
    }

    /**
     * The operator's CA (the chart's userCA): the certificates it signs in Java are what ssh-keygen makes and sshd
     * takes: the forward holds with one for the principal; one it signed for another principal, or that ended, gets
     * nothing; and it grants port forwarding alone, whatever the principal's line says.
     */
    @Test
    void aCertificateSignedByTheOperatorsCaHoldsTheForwardAndGrantsPortForwardingAlone() throws Exception {
        UserCertificateAuthority authority = UserCertificateAuthority.fromOpenSshPrivateKey(Files.readString(ca));
        Instant now = Instant.now();
        String issued = authority.sign(rig.key().publicKey(), "jumpgate:certs", List.of("jumpgate:certs"),
                now.minusSeconds(60), now.plusSeconds(3600), "jumpgate:certs");

        Files.writeString(dir.resolve("issued-cert.pub"), issued + "\n");
        Result read = HostCommand.SSH_KEYGEN.run(SHORT, "-L", "-f", dir.resolve("issued-cert.pub").toString());
        assertThat(read.exitCode()).isZero();
        assertThat(read.output()).contains("Type: ssh-ed25519-cert-v01@openssh.com user certificate")
                .contains("Signing CA: ED25519 " + authority.publicKey().fingerprint())
                .containsPattern("Principals: \\n\\s+jumpgate:certs\\n")
                .containsPattern("Critical Options: \\(none\\)")
                .containsPattern("Extensions: \\n\\s+permit-port-forwarding\\n\\s*$");

        AgentReport report = run(issued.getBytes(StandardCharsets.US_ASCII));
        assertThat(report.forwards()).extracting(f -> f.state()).containsExactly(ForwardState.Bound);
        assertThat(EchoClient.echoes(door, 64 * 1024)).isTrue();
        agent.close();
        agent = null;

        for (String refused : List.of(
                authority.sign(rig.key().publicKey(), "x", List.of("jumpgate:other"), now.minusSeconds(60),
                        now.plusSeconds(3600), ""),
                authority.sign(rig.key().publicKey(), "x", List.of("jumpgate:certs"), now.minusSeconds(7200),
                        now.minusSeconds(3600), ""))) {
            report = run(refused.getBytes(StandardCharsets.US_ASCII));
            assertThat(report.reason()).isEqualTo(Reasons.AUTHENTICATION_FAILED);
            assertThat(report.forwards()).extracting(f -> f.state()).doesNotContain(ForwardState.Bound);
            agent.close();
            agent = null;
        }
    }

    private static Result ssh(List<String> options, String... args) {
        List<String> all = new ArrayList<>(options);
        all.addAll(List.of(args));
        return HostCommand.SSH.run(SHORT, all.toArray(String[]::new));
    }
}
