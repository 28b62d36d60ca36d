package dev.jumpgate.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.util.function.IntConsumer;

/**
 * A byte pipe whose reads give up after a timeout, as a socket's do: what carries a session to the relay over a jump
 * host's channel. JSch notices a silent peer only by a read that times out (then it sends a keepalive, and after
 * ServerAliveCountMax of them ends the session); its own channel streams never time out, and a relay gone silent
 * behind a live jump host would hold the tunnel for good.
 *
 * <p>The writer is the hop's session thread, and it must never wait: it is also the only thread that reads the hop's
 * window adjusts, which the session being carried may be waiting for while it holds its own write lock (and with it
 * the reader of this pipe). So a write never blocks. The pipe holds up to {@code capacity} (the channel's window,
 * which the peer may not exceed) and tells {@code consumed} how many bytes the reader took, for the channel to credit
 * them to the peer then, and not before: the peer never has more in flight than there is room for.
 */
final class TimedPipe {

    private static final int FIRST_SIZE = 64 * 1024;

    private final int capacity;
    private final IntConsumer consumed;
    private byte[] ring = new byte[0];
    private int start;
    private int size;
    private boolean writerClosed;
    private boolean readerClosed;
    private volatile int timeoutMillis;

    /** A pipe for at most {@code capacity} bytes unread; {@code consumed} hears of each read, outside the lock. */
    TimedPipe(int capacity, int timeoutMillis, IntConsumer consumed) {
        this.capacity = capacity;
        this.timeoutMillis = timeoutMillis;
        this.consumed = consumed;
    }

    /** How long a read waits for the first byte before it throws a {@link SocketTimeoutException}; 0: for ever. */
    void timeout(int millis) {
        timeoutMillis = millis;
    }

    /** Where the hop's session thread writes what arrives on the channel; it never waits. */
    final OutputStream sink = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            synchronized (TimedPipe.this) {
                if (readerClosed || writerClosed) {
                    throw new IOException("pipe closed");
                }
                if (size + length > capacity) {
                    // More than the window the channel announced: the peer broke the protocol.
                    close();
                    throw new IOException("the hop sent " + (size + length - capacity) + " bytes beyond the channel's window");
                }
                grow(size + length);
                while (length > 0) {
                    int end = (start + size) % ring.length;
                    int n = Math.min(length, ring.length - end);
                    System.arraycopy(bytes, offset, ring, end, n);
                    size += n;
                    offset += n;
                    length -= n;
                }
                TimedPipe.this.notifyAll();
            }
        }

        @Override
        public void close() {
            synchronized (TimedPipe.this) {
                writerClosed = true;
                TimedPipe.this.notifyAll();
            }
        }
    };

    /** What the session to the next hop reads. */
    final InputStream source = new InputStream() {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            int n;
            synchronized (TimedPipe.this) {
                long timeout = timeoutMillis;
                long deadline = System.nanoTime() + timeout * 1_000_000;
                while (size == 0 && !writerClosed && !readerClosed) {
                    long left = timeout == 0 ? 0 : (deadline - System.nanoTime()) / 1_000_000;
                    if (timeout != 0 && left <= 0) {
                        throw new SocketTimeoutException("nothing from the hop for " + timeout + " ms");
                    }
                    await(timeout == 0 ? 0 : Math.max(1, left));
                }
                if (size == 0) {
                    return -1; // the channel closed (or this end did)
                }
                n = Math.min(length, Math.min(size, ring.length - start));
                System.arraycopy(ring, start, bytes, offset, n);
                start = (start + n) % ring.length;
                size -= n;
            }
            consumed.accept(n);
            return n;
        }

        @Override
        public int available() {
            synchronized (TimedPipe.this) {
                return size;
            }
        }

        @Override
        public void close() {
            synchronized (TimedPipe.this) {
                readerClosed = true;
                TimedPipe.this.notifyAll();
            }
        }
    };

    /** The channel ended: the reader reads what is left, then the end. */
    synchronized void closeWriter() {
        writerClosed = true;
        notifyAll();
    }

    /** Ends the pipe from outside: a reader waiting now returns at once, a writer's next write fails. */
    synchronized void close() {
        writerClosed = true;
        readerClosed = true;
        notifyAll();
    }

    /** Room for {@code needed} bytes: the ring doubles from 64 KiB as a busy channel needs it, up to the capacity. */
    private void grow(int needed) {
        if (needed <= ring.length) {
            return;
        }
        int length = Math.max(ring.length, Math.min(FIRST_SIZE, capacity));
        while (length < needed) {
            length = (int) Math.min(capacity, (long) length * 2);
        }
        byte[] bigger = new byte[length];
        for (int i = 0; i < size; i++) {
            bigger[i] = ring[(start + i) % ring.length];
        }
        ring = bigger;
        start = 0;
    }

    private void await(long millis) throws InterruptedIOException {
        try {
            wait(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }
}
