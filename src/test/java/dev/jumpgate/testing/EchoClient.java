package dev.jumpgate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;

/** A connection through a forward to an {@link EchoServer}: what goes in must come back, byte for byte. */
public final class EchoClient implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public EchoClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(15_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Sends {@code size} random bytes and returns whether exactly they came back. */
    public boolean roundTrip(int size) throws IOException {
        byte[] sent = new byte[size];
        new Random().nextBytes(sent);
        Thread writer = new Thread(() -> {
            try {
                out.write(sent);
                out.flush();
            } catch (IOException e) {
                // the reader sees the short read
            }
        });
        writer.start();
        byte[] received = in.readNBytes(size);
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Arrays.equals(sent, received);
    }

    /** One connection, one round trip, closed: true when the bytes came back. */
    public static boolean echoes(int port, int size) {
        try (EchoClient client = new EchoClient(port)) {
            return client.roundTrip(size);
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
