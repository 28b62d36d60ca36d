package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumpgate.api.v1alpha1.ProxyType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy handshakes byte by byte, against a scripted proxy: what the agent asks for, and what it makes of answers
 * a real proxy (tinyproxy, microsocks: EgressProxyRelayTest) does not give.
 */
class ProxyHandshakeTest {

    private final ServerSocket proxy;
    private Socket agentSide;

    ProxyHandshakeTest() throws IOException {
        proxy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void close() throws IOException {
        proxy.close();
        if (agentSide != null) {
            agentSide.close();
        }
    }

    /** A proxy that reads a CONNECT head up to its empty line and answers {@code answer}. */
    private CompletableFuture<byte[]> proxyAnswering(byte[] answer) {
        return scriptedProxy(new int[] {0}, new byte[][] {answer});
    }

    /**
     * A proxy that, step by step, reads {@code reads[i]} bytes (0: a head up to its empty line) and answers
     * {@code answers[i]}; then sends what the relay would, and returns all it heard.
     */
    private CompletableFuture<byte[]> scriptedProxy(int[] reads, byte[][] answers) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = proxy.accept()) {
                InputStream in = s.getInputStream();
                ByteArrayOutputStream heard = new ByteArrayOutputStream();
                for (int step = 0; step < reads.length; step++) {
                    int start = heard.size();
                    while (reads[step] > 0 ? heard.size() - start < reads[step]
                            : !heard.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                        int b = in.read();
                        if (b < 0) {
                            return heard.toByteArray();
                        }
                        heard.write(b);
                    }
                    s.getOutputStream().write(answers[step]);
                    s.getOutputStream().flush();
                }
                s.getOutputStream().write("SSH-2.0-after".getBytes(StandardCharsets.US_ASCII)); // what follows is the relay's
                s.getOutputStream().flush();
                Thread.sleep(200);
                return heard.toByteArray();
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private Socket connect() throws IOException {
        agentSide = new Socket(InetAddress.getLoopbackAddress(), proxy.getLocalPort());
        agentSide.setSoTimeout(5_000);
        return agentSide;
    }

    private static ProxyCredentials credentials() {
        return ProxyCredentials.of("Secret corp-proxy", "svc".getBytes(StandardCharsets.UTF_8),
                "s3cret".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void httpConnectAsksWithBasicAuthAndLeavesWhatFollowsTheHeadToTheSession() throws Exception {
        CompletableFuture<byte[]> heard = proxyAnswering(
                "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

        Socket socket = connect();
        ProxyHandshake.connect(ProxyType.HTTPConnect, socket, "fd00::7", 22, credentials());

        String request = new String(heard.get(5, TimeUnit.SECONDS), StandardCharsets.ISO_8859_1);
        assertThat(request).startsWith("CONNECT [fd00::7]:22 HTTP/1.1\r\nHost: [fd00::7]:22\r\n")
                .contains("Proxy-Authorization: Basic c3ZjOnMzY3JldA==\r\n");
        assertThat(new String(socket.getInputStream().readNBytes(13), StandardCharsets.US_ASCII)).isEqualTo("SSH-2.0-after");
    }

    @Test
    void anEndlessHttpHeadEndsTheAttemptAtItsBound() throws Exception {
        byte[] endless = ("HTTP/1.1 200 OK\r\nX-Filler: " + "a".repeat(ProxyHandshake.MAX_HTTP_HEAD) + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        proxyAnswering(endless);

        assertThatThrownBy(() -> ProxyHandshake.connect(ProxyType.HTTPConnect, connect(), "relay", 22, null))
                .isInstanceOf(ProxyHandshake.Refused.class).hasMessageContaining("went on past");
    }

    @Test
    void somethingThatIsNotAnHttpProxyIsToldSoInPrintableWords() throws Exception {
        proxyAnswering("SSH-2.0-OpenSSH_9.2\r\n\u0007\u001b[2J\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));

        assertThatThrownBy(() -> ProxyHandshake.connect(ProxyType.HTTPConnect, connect(), "relay", 22, null))
                .isInstanceOf(ProxyHandshake.Refused.class)
                .hasMessageContaining("did not answer CONNECT as an HTTP proxy does (\"SSH-2.0-OpenSSH_9.2\")");
    }

    @Test
    void socks5SendsIpLiteralsAsAddressesAndNamesForTheProxyToResolve() throws Exception {
        byte[] reply = {5, 0, 0, 1, 10, 0, 0, 1, 0, 22};
        CompletableFuture<byte[]> heard = scriptedProxy(new int[] {3, 10}, new byte[][] {{5, 0}, reply});
        ProxyHandshake.connect(ProxyType.SOCKS5, connect(), "::ffff:192.0.2.7", 2222, null);
        // no credentials: one method (none); an IPv4-mapped IPv6 literal goes as IPv4
        assertThat(Arrays.copyOfRange(heard.get(5, TimeUnit.SECONDS), 0, 13))
                .containsExactly(5, 1, 0, 5, 1, 0, 1, 192, 0, 2, 7, 0x08, 0xae);
        agentSide.close();

        CompletableFuture<byte[]> named = scriptedProxy(new int[] {3, 24}, new byte[][] {{5, 0}, reply});
        ProxyHandshake.connect(ProxyType.SOCKS5, connect(), "relay.example.com", 22, null);
        byte[] request = Arrays.copyOfRange(named.get(5, TimeUnit.SECONDS), 3, 3 + 5 + 17 + 2);
        assertThat(request[3]).as("address type: a name").isEqualTo((byte) 3);
        assertThat(new String(request, 5, 17, StandardCharsets.US_ASCII)).isEqualTo("relay.example.com");
    }

    @Test
    void socks5RefusalsSayWhyWithoutThePassword() throws Exception {
        scriptedProxy(new int[] {4, 12}, new byte[][] {{5, 2}, {1, 1}}); // username/password chosen, then refused
        assertThatThrownBy(() -> ProxyHandshake.connect(ProxyType.SOCKS5, connect(), "relay", 22, credentials()))
                .isInstanceOf(ProxyHandshake.Refused.class)
                .hasMessageContaining("refused the credentials from Secret corp-proxy").hasMessageNotContaining("s3cret");
        agentSide.close();

        scriptedProxy(new int[] {3, 10}, new byte[][] {{5, 0}, {5, 2, 0, 1, 0, 0, 0, 0, 0, 0}});
        assertThatThrownBy(() -> ProxyHandshake.connect(ProxyType.SOCKS5, connect(), "10.0.0.9", 22, null))
                .isInstanceOf(ProxyHandshake.Refused.class).hasMessageContaining("not allowed by its rules");
    }
}
