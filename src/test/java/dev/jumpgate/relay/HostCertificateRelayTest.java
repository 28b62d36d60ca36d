package dev.jumpgate.relay;

import static dev.jumpgate.testing.Tunnels.forward;
import static dev.jumpgate.testing.Tunnels.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.agent.TunnelAgent;
import dev.jumpgate.agent.TunnelConfig;
import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.testing.EchoClient;
import dev.jumpgate.testing.EchoServer;
import dev.jumpgate.testing.HostCommand;
import dev.jumpgate.testing.OpenSshRelay;
import dev.jumpgate.testing.RelayRig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Tier 2: spec.relay.hostCertificateAuthorities, as a known_hosts @cert-authority line: a real sshd presents a host
 * certificate (HostCertificate) made by ssh-keygen's host CA, and the agent takes it instead of a pinned key; a
 * certificate from another CA, for another host name, or expired, is the man in the middle it looks like.
 */
@Tag("relay")
class HostCertificateRelayTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final Duration SHORT = Duration.ofSeconds(20);

    private final RelayRig rig = new RelayRig("jumpgate:host-certs");
    private Path dir;
    private Path hostCa;
    private EchoServer target;
    private TunnelAgent agent;

    @BeforeEach
    void aHostCa() throws Exception {
        dir = Files.createTempDirectory("jumpgate-host-ca");
        hostCa = keygen("host_ca");
        target = rig.closedAfter(new EchoServer());
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        rig.close();
    }

    private Path keygen(String name) {
        Path key = dir.resolve(name);
        HostCommand.SSH_KEYGEN.run(SHORT, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.toString()).orThrow();
        return key;
    }

    /** A relay whose host key carries a certificate from this CA, for these names, valid for this (ssh-keygen -V). */
    private OpenSshRelay relayCertifiedBy(Path authority, String names, String validity) {
        Path hostKey = keygen("relay_host_" + System.nanoTime());
        HostCommand.SSH_KEYGEN.run(SHORT, "-q", "-s", authority.toString(), "-h", "-I", "relay", "-n", names,
                "-V", validity, hostKey + ".pub").orThrow();
        OpenSshRelay relay = rig.closedAfter(OpenSshRelay.start("HostKey " + hostKey,
                "HostCertificate " + hostKey + "-cert.pub"));
        relay.authorize(rig.key().publicKey().toString());
        return relay;
    }

    private static String publicKey(Path key) throws Exception {
        String[] parts = Files.readString(Path.of(key + ".pub")).trim().split("\\s+");
        return parts[0] + " " + parts[1];
    }

    private AgentReport run(OpenSshRelay relay, int door) throws Exception {
        ReverseTunnelSpec spec = spec(relay, forward("ssh", door, target.port()));
        spec.getRelay().setHostKeys(new ArrayList<>()); // no key pinned: the CA only
        spec.getRelay().setHostCertificateAuthorities(new ArrayList<>(List.of(publicKey(hostCa))));
        agent = new TunnelAgent(report -> { }).start();
        agent.apply(new TunnelConfig(1, spec, rig.identity(), null));
        await().atMost(PATIENCE).until(() -> agent.report() != null && (agent.report().allForwardsBound()
                || agent.report().lastError() != null));
        return agent.report();
    }

    @Test
    void aRelayWithACertificateFromTheTrustedCaIsTakenWithNoKeyPinned() throws Exception {
        OpenSshRelay relay = relayCertifiedBy(hostCa, "127.0.0.1,relay.example.com", "+1h");
        int door = OpenSshRelay.freePort();

        AgentReport report = run(relay, door);

        assertThat(report.forwards()).extracting(f -> f.state()).containsExactly(ForwardState.Bound);
        assertThat(report.hostKey()).as("a certificate, checked against the CA: no key of its own to show").isNull();
        assertThat(EchoClient.echoes(door, 4096)).isTrue();
    }

    @Test
    void anotherCaAnotherHostOrAnExpiredCertificateIsRefusedAndNothingIsForwarded() throws Exception {
        Path otherCa = keygen("other_ca");
        List<OpenSshRelay> impostors = List.of(relayCertifiedBy(otherCa, "127.0.0.1", "+1h"),
                relayCertifiedBy(hostCa, "relay.example.com", "+1h"), relayCertifiedBy(hostCa, "127.0.0.1", "-2h:-1h"));
        for (OpenSshRelay impostor : impostors) {
            int door = OpenSshRelay.freePort();
            AgentReport report = run(impostor, door);
            assertThat(report.reason()).isEqualTo(Reasons.HOST_KEY_MISMATCH);
            assertThat(report.message()).contains("trusted host CA", "nothing was forwarded");
            assertThat(OpenSshRelay.listening(door)).isFalse();
            agent.close();
            agent = null;
        }
    }
}
