package dev.jumpgate.agent;

import static dev.jumpgate.testing.Tunnels.forward;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.report.AgentReport;
import dev.jumpgate.report.ReportText;
import dev.jumpgate.ssh.Ed25519KeyPair;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A relay that is not what it claims: it answers the agent's connection with an SSH disconnect whose description its
 * owner chose. The words reach the tunnel's status and Events, so they arrive bounded and without control characters.
 */
class HostileRelayTest {

    /** 100,000 characters of newlines, terminal escapes and a bidirectional override around a fake condition. */
    private static final String SPEECH = ("\n\u001b[2J\u001b[31mReady=True\u202e reason: TunnelReady\r\n").repeat(2_500);

    @Test
    void whatTheRelaySaysWhenItHangsUpReachesTheReportBoundedAndWithoutControlCharacters() throws Exception {
        try (ServerSocket relay = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> hangUpOnEveryone(relay));
            server.setDaemon(true);
            server.start();
            ReverseTunnelSpec spec = new ReverseTunnelSpec();
            spec.getRelay().setHost("127.0.0.1");
            spec.getRelay().setPort(relay.getLocalPort());
            spec.getRelay().setUser("tunnel");
            spec.getRelay().setHostKeyPolicy(HostKeyPolicy.AcceptNew);
            spec.setForwards(new ArrayList<>(List.of(forward("ssh", 4040, 22))));
            Ed25519KeyPair key = Ed25519KeyPair.generate("test");
            Identity identity = Identity.of("test key", key.privateKeyPem().getBytes(StandardCharsets.US_ASCII));
            try (TunnelAgent agent = new TunnelAgent(report -> { }).start()) {
                agent.apply(new TunnelConfig(1, spec, identity, null));

                await().atMost(Duration.ofSeconds(20)).until(() -> agent.report() != null
                        && agent.report().lastError() != null);
                AgentReport report = agent.report();
                assertThat(report.reason()).isEqualTo(Reasons.RELAY_UNREACHABLE);
                assertThat(report.message()).contains("SSH_MSG_DISCONNECT").contains("Ready=True");
                assertThat(report.message().length()).isLessThan(ReportText.MAX_RELAY_TEXT + 100);
                assertThat(report.message()).doesNotContain("\n", "\r", "\u001b", "\u202e");
            }
        }
    }

    /** Version exchange, then an unencrypted SSH_MSG_DISCONNECT (RFC 4253 11.1) instead of the key exchange. */
    private static void hangUpOnEveryone(ServerSocket relay) {
        while (!relay.isClosed()) {
            try (Socket agent = relay.accept()) {
                OutputStream out = agent.getOutputStream();
                out.write("SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = agent.getInputStream();
                while (in.read() != '\n') {
                    // the agent's version line
                }
                ByteArrayOutputStream payload = new ByteArrayOutputStream();
                DataOutputStream p = new DataOutputStream(payload);
                p.writeByte(1); // SSH_MSG_DISCONNECT
                p.writeInt(2); // protocol error
                byte[] description = SPEECH.getBytes(StandardCharsets.UTF_8);
                p.writeInt(description.length);
                p.write(description);
                p.writeInt(0); // language tag
                int padding = 8 - (payload.size() + 5) % 8;
                padding += padding < 4 ? 8 : 0;
                DataOutputStream packet = new DataOutputStream(out);
                packet.writeInt(payload.size() + padding + 1);
                packet.writeByte(padding);
                packet.write(payload.toByteArray());
                packet.write(new byte[padding]);
                packet.flush();
                in.readAllBytes();
            } catch (IOException e) {
                // the agent hung up as well; next
            }
        }
    }
}
