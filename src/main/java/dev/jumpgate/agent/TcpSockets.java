package dev.jumpgate.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/** How the agent opens every TCP connection, to the relay and to targets alike. */
final class TcpSockets {

    private TcpSockets() {
    }

    /** Connects within the timeout with Nagle off (SSH and forwarded traffic are interactive), or closes the socket. */
    static <S extends Socket> S connect(S socket, String host, int port, int timeoutMillis) throws IOException {
        try {
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            socket.setTcpNoDelay(true);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return socket;
    }
}
