package dev.jumpgate.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumpgate.testing.Forgery;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SshKeysTest {

    // Made by ssh-keygen -t ed25519 -C test; ssh-keygen -lf printed its fingerprint below.
    private static final String OPENSSH_PUBLIC =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN test";
    private static final String OPENSSH_FINGERPRINT = "SHA256:chaRZIqaACMJdhoS3YnW1vIBuDo4mrLkWqRlkfPGibY";

    @Test
    void aPublicKeyLineParsesIntoTypeBlobAndComment() {
        PublicKeyLine key = PublicKeyLine.parse(OPENSSH_PUBLIC);

        assertThat(key.type()).isEqualTo("ssh-ed25519");
        assertThat(key.comment()).isEqualTo("test");
        assertThat(key.toKeyString()).isEqualTo(OPENSSH_PUBLIC.substring(0, OPENSSH_PUBLIC.length() - 5));
        assertThat(key.fingerprint()).isEqualTo(OPENSSH_FINGERPRINT);
    }

    @Test
    void garbageIsRefusedWithAReason() {
        assertThatThrownBy(() -> PublicKeyLine.parse("ssh-ed25519")).hasMessageContaining("<type> <base64>");
        assertThatThrownBy(() -> PublicKeyLine.parse("ssh-ed25519 !!!")).hasMessageContaining("base64");
        assertThatThrownBy(() -> PublicKeyLine.parse("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN"))
                .hasMessageContaining("holds ssh-ed25519");
    }

    @Test
    void aGeneratedKeyPairCarriesItsPublicHalfInThePrivateKeyFile() {
        Ed25519KeyPair pair = Ed25519KeyPair.generate("jumpgate:ns/lab");

        assertThat(pair.privateKeyPem()).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
                .endsWith("-----END OPENSSH PRIVATE KEY-----\n");
        assertThat(PublicKeyLine.fromOpenSshPrivateKey(pair.privateKeyPem()).sameKey(pair.publicKey())).isTrue();
        assertThat(pair.publicKey().toString()).startsWith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI").endsWith(" jumpgate:ns/lab");
        assertThat(pair.toString()).doesNotContain("PRIVATE");
    }

    @Test
    void twoGeneratedKeysDiffer() {
        assertThat(Ed25519KeyPair.generate("a").publicKey().sameKey(Ed25519KeyPair.generate("a").publicKey())).isFalse();
    }

    @Test
    void theAuthorizedKeyLineAllowsOnlyTheTunnelsListensAndTheChecksConnectionsToThem() {
        PublicKeyLine key = PublicKeyLine.parse(OPENSSH_PUBLIC);

        String line = AuthorizedKeyLine.of(key, "relay.example.com", List.of(new AuthorizedKeyLine.Listen("127.0.0.1", 3838),
                new AuthorizedKeyLine.Listen("0.0.0.0", 4040), new AuthorizedKeyLine.Listen("127.0.0.1", 0),
                new AuthorizedKeyLine.Listen("::1", 22), new AuthorizedKeyLine.Listen("127.0.0.1", 5000, false)),
                "jumpgate:lab/gpu");

        assertThat(line).isEqualTo("restrict,port-forwarding,command=\"echo 'this key only holds a Jumpgate tunnel' >&2; exit 1\","
                + "permitopen=\"127.0.0.1:3838\",permitopen=\"relay.example.com:4040\",permitopen=\"localhost:4040\","
                + "permitopen=\"[::1]:22\",permitlisten=\"127.0.0.1:3838\",permitlisten=\"0.0.0.0:4040\","
                + "permitlisten=\"127.0.0.1:*\",permitlisten=\"[::1]:22\",permitlisten=\"127.0.0.1:5000\" "
                + key.toKeyString() + " jumpgate:lab/gpu");
    }

    @Test
    void aLineWithNoCheckedListenStillPermitsNoConnectionButToAClosedPort() {
        PublicKeyLine key = PublicKeyLine.parse(OPENSSH_PUBLIC);

        String line = AuthorizedKeyLine.of(key, "[2001:db8::1]", List.of(new AuthorizedKeyLine.Listen("0.0.0.0", 0),
                new AuthorizedKeyLine.Listen("0.0.0.0", 4040, false)), null);

        assertThat(line).contains("permitopen=\"127.0.0.1:1\",permitlisten=\"0.0.0.0:*\",permitlisten=\"0.0.0.0:4040\" ")
                .doesNotContain("2001:db8").endsWith(key.toKeyString());
        assertThat(AuthorizedKeyLine.of(key, "[2001:db8::1]", List.of(new AuthorizedKeyLine.Listen("*", 4040)), null))
                .contains("permitopen=\"[2001:db8::1]:4040\",permitopen=\"localhost:4040\",permitlisten=\"*:4040\"");
    }

    @Test
    void aCertificateTheCaSignsSaysWhatItWasSignedFor() {
        Ed25519KeyPair ca = Ed25519KeyPair.generate("ca");
        Ed25519KeyPair key = Ed25519KeyPair.generate("jumpgate:lab/lab-ssh");
        Instant from = Instant.parse("2026-12-02T10:00:00Z");
        String line = UserCertificateAuthority.fromOpenSshPrivateKey(ca.privateKeyPem()).sign(key.publicKey(),
                "jumpgate:lab/lab-ssh", List.of("jumpgate:lab/lab-ssh"), from, from.plusSeconds(3600), "comment");

        assertThat(line).startsWith("ssh-ed25519-cert-v01@openssh.com ").endsWith(" comment");
        SshCertificate certificate = SshCertificate.parse(line);
        assertThat(certificate.keyId()).isEqualTo("jumpgate:lab/lab-ssh");
        assertThat(certificate.principals()).containsExactly("jumpgate:lab/lab-ssh");
        assertThat(certificate.validAfter()).isEqualTo(from);
        assertThat(certificate.validBefore()).isEqualTo(from.plusSeconds(3600));
        assertThat(certificate.certifiedKey().sameKey(key.publicKey())).isTrue();
        assertThat(certificate.signedBy().sameKey(ca.publicKey())).isTrue();
        assertThat(SshCertificate.parse(UserCertificateAuthority.fromOpenSshPrivateKey(ca.privateKeyPem())
                .sign(key.publicKey(), "x", List.of("p"), from, from.plusSeconds(1), "")).serial())
                .as("a serial of its own each time").isNotEqualTo(certificate.serial());
    }

    /** A certificate that names the CA as its signer without its signature is not the CA's. */
    @Test
    void onlyACertificateTheCaSignedCountsAsSignedByIt() {
        Ed25519KeyPair ca = Ed25519KeyPair.generate("ca");
        Ed25519KeyPair other = Ed25519KeyPair.generate("other");
        Ed25519KeyPair key = Ed25519KeyPair.generate("key");
        UserCertificateAuthority authority = UserCertificateAuthority.fromOpenSshPrivateKey(ca.privateKeyPem());
        Instant from = Instant.parse("2026-12-02T10:00:00Z");
        String genuine = authority.sign(key.publicKey(), "k", List.of("p"), from, from.plusSeconds(60), "");
        String byOther = UserCertificateAuthority.fromOpenSshPrivateKey(other.privateKeyPem())
                .sign(key.publicKey(), "k", List.of("p"), from, from.plusSeconds(60), "");

        assertThat(authority.signed(SshCertificate.parse(genuine))).isTrue();
        assertThat(authority.signed(SshCertificate.parse(byOther))).isFalse();
        assertThat(authority.signed(SshCertificate.parse(Forgery.claimingToBeBy(byOther, other, ca)))).isFalse();
    }

    @Test
    void aCaKeyThatCannotSignIsRefusedWithAReasonAndNoWordOfTheKey() {
        String noKeyInside = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
        assertThatThrownBy(() -> UserCertificateAuthority.fromOpenSshPrivateKey(noKeyInside))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("openssh-key-v1");
        assertThatThrownBy(() -> UserCertificateAuthority.fromOpenSshPrivateKey("-----BEGIN PRIVATE KEY-----"))
                .hasMessageContaining("not an OpenSSH private key");
    }
}
