package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumpgate.ssh.Ed25519KeyPair;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standalone agent's command line: a bad file is refused with a message naming what is wrong. */
class StandaloneAgentTest {

    @TempDir
    Path dir;

    private Path file(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    /** A private key file as ssh-keygen leaves it: readable by its owner only. */
    private Path keyFile(String name, String content) throws IOException {
        Path file = file(name, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private Path identity() throws IOException {
        return keyFile("id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n");
    }

    @Test
    void theExampleFromTheRepositoryIsAccepted() throws Exception {
        TunnelConfig config = StandaloneAgent.parse(List.of("--file", "examples/lab-ssh.yaml",
                "--identity", identity().toString())).config();

        assertThat(config.spec().getRelay().getHost()).isEqualTo("relay.example.com");
        assertThat(config.spec().getForwards()).singleElement()
                .satisfies(f -> assertThat(f.getRemote().getPort()).isEqualTo(4040));
        assertThat(config.spec().getKeepalive().getIntervalSeconds()).as("defaults apply without an API server").isEqualTo(10);
    }

    private static String tunnelYaml(String name, int port) {
        return """
                apiVersion: jumpgate.dev/v1alpha1
                kind: ReverseTunnel
                metadata: {name: %s}
                spec:
                  relay: {host: relay.example.com, user: tunnel, hostKeyPolicy: AcceptNew}
                  forwards: [{name: ssh, remote: {port: %d}, target: {host: 10.8.92.10, port: 22}}]
                """.formatted(name, port);
    }

    @Test
    void severalFilesAndSeveralTunnelsInAFileRunInOneProcessEachWithItsOwnRelayKeyFile() throws Exception {
        Path one = file("one.yaml", tunnelYaml("a", 4040));
        Path two = file("two.yaml", "# two tunnels\n" + tunnelYaml("b", 4041) + "---\n" + tunnelYaml("c", 4042) + "---\n");

        List<StandaloneAgent> agents = StandaloneAgent.parseAll(List.of("--file", one.toString(), "--file",
                two.toString(), "--identity", identity().toString()));

        assertThat(agents).extracting(StandaloneAgent::name).containsExactly("a", "b", "c");
        assertThat(agents).extracting(a -> a.config().spec().getForwards().get(0).getRemote().getPort())
                .containsExactly(4040, 4041, 4042);
        assertThat(agents).extracting(a -> a.knownHosts().getFileName().toString())
                .containsExactly("one.yaml.known_hosts", "two.yaml.b.known_hosts", "two.yaml.c.known_hosts");
    }

    @Test
    void tunnelsThatShareANameOrOneKnownHostsFileAreRefused() throws Exception {
        Path one = file("one.yaml", tunnelYaml("a", 4040));
        Path again = file("again.yaml", tunnelYaml("a", 4041));

        assertThatThrownBy(() -> StandaloneAgent.parseAll(List.of("--file", one.toString(), "--file", again.toString(),
                "--identity", identity().toString()))).hasMessageContaining("two tunnels are named a");
        Path other = file("other.yaml", tunnelYaml("b", 4041));
        assertThatThrownBy(() -> StandaloneAgent.parseAll(List.of("--file", one.toString(), "--file", other.toString(),
                "--identity", identity().toString(), "--known-hosts", dir.resolve("kh").toString())))
                .hasMessageContaining("--known-hosts keeps one tunnel's relay key");
    }

    @Test
    void authorizedKeyPrintsTheLineTheOperatorWouldForTheSameTunnelAndKey() throws Exception {
        Ed25519KeyPair key = Ed25519KeyPair.generate("laptop");
        Path identity = keyFile("id_ed25519", key.privateKeyPem());

        String line = StandaloneAgent.authorizedKey(List.of("--file", "examples/lab-ssh.yaml", "--identity", identity.toString()));

        assertThat(line).isEqualTo("restrict,port-forwarding,command=\"echo 'this key only holds a Jumpgate tunnel' >&2;"
                + " exit 1\",permitopen=\"relay.example.com:4040\",permitopen=\"localhost:4040\",permitlisten=\"0.0.0.0:4040\" " + key.publicKey().toKeyString()
                + " jumpgate:lab-ssh");
    }

    @Test
    void aTunnelThroughAProxyWithCredentialsNeedsThemGivenAndProtectedAndGetsALineForEachJumpHost() throws Exception {
        String example = "examples/lab-ssh-through-proxy-and-jump-host.yaml";
        Ed25519KeyPair key = Ed25519KeyPair.generate("laptop");
        Path identity = keyFile("id_ed25519", key.privateKeyPem());
        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", example, "--identity", identity.toString())))
                .hasMessageContaining("--proxy-credentials DIR");

        Path credentials = Files.createDirectory(dir.resolve("corp-proxy"));
        file("corp-proxy/username", "svc-jumpgate\n");
        Path password = keyFile("corp-proxy/password", "s3cret\n");
        TunnelConfig config = StandaloneAgent.parse(List.of("--file", example, "--identity", identity.toString(),
                "--proxy-credentials", credentials.toString())).config();
        assertThat(config.proxyCredentials().source()).contains(credentials.toString());
        assertThat(config.toString()).doesNotContain("svc-jumpgate").doesNotContain("s3cret");
        assertThat(config.spec().getRelay().jumpHosts()).singleElement()
                .satisfies(hop -> assertThat(hop.getPort()).as("default port").isEqualTo(22));

        String lines = StandaloneAgent.authorizedKey(List.of("--file", example, "--identity", identity.toString(),
                "--proxy-credentials", credentials.toString()));
        assertThat(lines.lines()).hasSize(3);
        assertThat(lines.lines().toList().get(0)).contains("permitlisten=\"0.0.0.0:4040\"");
        assertThat(lines.lines().toList().get(1))
                .isEqualTo("# for ~jump/.ssh/authorized_keys on the jump host jump@bastion.example.com:22");
        assertThat(lines.lines().toList().get(2)).contains("permitopen=\"relay.example.com:22\"")
                .endsWith(key.publicKey().toKeyString() + " jumpgate:lab-ssh-corp");

        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", example, "--identity", identity.toString(),
                "--proxy-credentials", credentials.toString()))).hasMessageContaining("too open");
    }

    @Test
    void authorizedKeyPrintsALineForEachFallbackRelayThatPermitsItsOwnName() throws Exception {
        Ed25519KeyPair key = Ed25519KeyPair.generate("laptop");
        Path identity = keyFile("id_ed25519", key.privateKeyPem());

        List<String> lines = StandaloneAgent.authorizedKey(List.of("--file", "examples/lab-ssh-with-fallback-relay.yaml",
                "--identity", identity.toString())).lines().toList();

        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains("permitopen=\"relay-a.example.com:4040\"");
        assertThat(lines.get(1)).isEqualTo("# for ~tunnel/.ssh/authorized_keys on the fallback relay "
                + "tunnel@relay-b.example.net:22");
        assertThat(lines.get(2)).contains("permitopen=\"relay-b.example.net:4040\"", "permitlisten=\"0.0.0.0:4040\"")
                .doesNotContain("relay-a").endsWith(key.publicKey().toKeyString() + " jumpgate:lab-ssh-failover");
    }

    @Test
    void authorizedKeyTakesThePublicKeyFromTheDotPubFileWhenThePrivateKeyDoesNotCarryIt() throws Exception {
        Ed25519KeyPair key = Ed25519KeyPair.generate("laptop");
        Path identity = identity();
        file("id_ed25519.pub", key.publicKey().toString() + "\n");

        assertThat(StandaloneAgent.authorizedKey(List.of("--file", "examples/lab-ssh.yaml", "--identity", identity.toString())))
                .contains(key.publicKey().toKeyString());
        Files.delete(dir.resolve("id_ed25519.pub"));
        assertThatThrownBy(() -> StandaloneAgent.authorizedKey(List.of("--file", "examples/lab-ssh.yaml",
                "--identity", identity.toString())))
                .hasMessageContaining("cannot find the public key").hasMessageContaining("id_ed25519.pub is missing");
    }

    @Test
    void anInvalidTunnelIsRefusedFieldByField() throws Exception {
        Path bad = file("bad.yaml", """
                apiVersion: jumpgate.dev/v1alpha1
                kind: ReverseTunnel
                metadata: {name: x}
                spec:
                  relay: {host: relay.example.com, user: tunnel}
                  forwards:
                    - {name: SSH, remote: {port: 70000}, target: {host: h, port: 22}}
                """);

        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", bad.toString(), "--identity", identity().toString())))
                .isInstanceOf(StandaloneAgent.BadInput.class)
                .hasMessageContaining("is not a valid ReverseTunnel")
                .hasMessageContaining("spec.relay.hostKeys")
                .hasMessageContaining("spec.forwards[0].name")
                .hasMessageContaining("spec.forwards[0].remote.port: must be between 0 and 65535, got 70000");
    }

    @Test
    void somethingElseThanATunnelIsRefused() throws Exception {
        Path pod = file("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
        Path garbage = file("garbage.yaml", "relay: [unclosed\n");

        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", pod.toString(), "--identity", identity().toString())))
                .hasMessageContaining("holds no ReverseTunnel");
        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", garbage.toString(), "--identity", identity().toString())))
                .hasMessageContaining("is not a ReverseTunnel YAML");
    }

    @Test
    void aPrivateKeyOthersMayReadIsRefusedAsSshRefusesIt() throws Exception {
        Path identity = identity();
        Files.setPosixFilePermissions(identity, PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", "examples/lab-ssh.yaml", "--identity",
                identity.toString()))).hasMessageContaining("rw-r--r--").hasMessageContaining("too open")
                .hasMessageContaining("chmod 600 " + identity);
    }

    @Test
    void anEmptyOrDamagedKnownHostsFileDoesNotResetTrust() throws Exception {
        for (String damaged : List.of("", "\n", "ssh-ed25519 AAAAC3Nza", "garbage")) {
            Path knownHosts = file("relay.known_hosts", damaged);
            assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", "examples/lab-ssh.yaml",
                    "--identity", identity().toString(), "--known-hosts", knownHosts.toString())))
                    .as("known-hosts holding %s", damaged)
                    .hasMessageContaining("holds no relay host key").hasMessageContaining("delete it to trust");
        }
        String kept = Ed25519KeyPair.generate("relay").publicKey().toKeyString();
        Path knownHosts = file("relay.known_hosts", kept + "\n");
        assertThat(StandaloneAgent.parse(List.of("--file", "examples/lab-ssh.yaml", "--identity", identity().toString(),
                "--known-hosts", knownHosts.toString())).config().acceptedHostKey()).isEqualTo(kept);
    }

    @Test
    void missingFilesAndArgumentsAreNamed() throws Exception {
        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", "examples/lab-ssh.yaml")))
                .hasMessage(StandaloneAgent.USAGE);
        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", dir.resolve("nope.yaml").toString(),
                "--identity", identity().toString()))).hasMessageContaining("cannot read");
        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--file", "examples/lab-ssh.yaml",
                "--identity", dir.resolve("no-key").toString()))).hasMessageContaining("cannot read the identity");
        assertThatThrownBy(() -> StandaloneAgent.parse(List.of("--verbose"))).hasMessageContaining("unexpected argument --verbose");
    }
}
