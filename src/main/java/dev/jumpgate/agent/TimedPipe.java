package dev.jumpgate.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;

/**
 * A byte pipe whose reads give up after a timeout, as a socket's do: what carries a session to the relay over a jump
 * host's channel. JSch notices a silent peer only by a read that times out (then it sends a keepalive, and after
 * ServerAliveCountMax of them ends the session); its own channel streams never time out, and a relay gone silent
 * behind a live jump host would hold the tunnel for good. The hop's session thread writes what the hop sends; a write
 * to a full pipe waits for the reader, which is the flow control the channel's window expects.
 */
final class TimedPipe {

    private final byte[] ring;
    private int start;
    private int size;
    private boolean writerClosed;
    private boolean readerClosed;
    private volatile int timeoutMillis;

    TimedPipe(int capacity, int timeoutMillis) {
        this.ring = new byte[capacity];
        this.timeoutMillis = timeoutMillis;
    }

    /** How long a read waits for the first byte before it throws a {@link SocketTimeoutException}; 0: for ever. */
    void timeout(int millis) {
        timeoutMillis = millis;
    }

    /** Where the hop's session thread writes what arrives on the channel. */
    final OutputStream sink = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            synchronized (TimedPipe.this) {
                while (length > 0) {
                    while (size == ring.length && !readerClosed && !writerClosed) {
                        await(0);
                    }
                    if (readerClosed || writerClosed) {
                        throw new IOException("pipe closed");
                    }
                    int end = (start + size) % ring.length;
                    int n = Math.min(length, Math.min(ring.length - size, ring.length - end));
                    System.arraycopy(bytes, offset, ring, end, n);
                    size += n;
                    offset += n;
                    length -= n;
                    TimedPipe.this.notifyAll();
                }
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
                int n = Math.min(length, Math.min(size, ring.length - start));
                System.arraycopy(ring, start, bytes, offset, n);
                start = (start + n) % ring.length;
                size -= n;
                TimedPipe.this.notifyAll();
                return n;
            }
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

    /** Ends the pipe from outside: a reader or writer waiting now returns at once. */
    synchronized void close() {
        writerClosed = true;
        readerClosed = true;
        notifyAll();
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
