package dev.jumpgate.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A SOCKS5 client (RFC 1928, no authentication, CONNECT), as curl --socks5-hostname or ssh's ProxyCommand use one. */
public final class SocksClient implements AutoCloseable {

    /** What a server answered: its reply code (0: succeeded), or -1 when it closed without one. */
    private final int reply;
    private final Socket socket;

    private SocksClient(Socket socket, int reply) {
        this.socket = socket;
        this.reply = reply;
    }

    /** Connects to the SOCKS server at 127.0.0.1:port and asks it to connect to host:targetPort (a name or an IPv4 address). */
    public static SocksClient connect(int port, String host, int targetPort) throws IOException {
        return request(port, new byte[] {0x00}, 0x01, host, targetPort);
    }

    /** The same with the greeting's methods and the request's command of the caller's choosing. */
    public static SocksClient request(int port, byte[] methods, int command, String host, int targetPort)
            throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(15_000);
        OutputStream out = socket.getOutputStream();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] greeting = new byte[2 + methods.length];
        greeting[0] = 5;
        greeting[1] = (byte) methods.length;
        System.arraycopy(methods, 0, greeting, 2, methods.length);
        out.write(greeting);
        int version = in.read();
        int method = in.read();
        if (version != 5 || method != 0) {
            return new SocksClient(socket, method < 0 ? -1 : 0x100 | method); // 0x1FF: no acceptable method
        }
        byte[] name = host.getBytes(StandardCharsets.US_ASCII);
        boolean ipv4 = host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        byte[] address = ipv4 ? java.net.InetAddress.getByName(host).getAddress() : name;
        byte[] request = new byte[4 + (ipv4 ? 4 : 1 + name.length) + 2];
        request[0] = 5;
        request[1] = (byte) command;
        request[3] = (byte) (ipv4 ? 1 : 3);
        int at = 4;
        if (!ipv4) {
            request[at++] = (byte) name.length;
        }
        System.arraycopy(address, 0, request, at, address.length);
        at += address.length;
        request[at] = (byte) (targetPort >> 8);
        request[at + 1] = (byte) targetPort;
        out.write(request);
        int replyVersion = in.read();
        if (replyVersion < 0) {
            return new SocksClient(socket, -1);
        }
        int code = in.readUnsignedByte();
        in.readUnsignedByte();
        int type = in.readUnsignedByte();
        in.readFully(new byte[(type == 4 ? 16 : 4) + 2]);
        return new SocksClient(socket, code);
    }

    public int reply() {
        return reply;
    }

    /** The connection, once the server succeeded: bytes go to and come from the target. */
    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
