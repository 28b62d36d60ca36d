package dev.jumpgate.agent;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The path from the relay to one forward's target. The session's thread hands each data packet to {@link #write},
 * which only queues it and never waits; this connection's own thread writes the queue to the target and credits the
 * relay for what the target accepted ({@link ReceiveWindow}). A target that stops reading thus stops its own
 * connection once its window is queued here, and nothing else: not the other connections, not the session's
 * keepalives. What is queued is at most the window, because the relay may send no more.
 *
 * <p>EOF from the relay becomes a half-close of the target connection once everything before it is written. When the
 * connection is closed with data still queued (the relay sent its last bytes and closed the channel at once), the
 * data is still written first, for at most {@link #LINGER_SECONDS}, as OpenSSH drains a channel's buffer before it
 * closes the socket.
 *
 * <p>The bytes of a bulk transfer are queued in pooled chunks ({@link #CHUNK}), written to the target straight from
 * them and given back: a packet allocated per arrival and kept until written survived the young collections of the
 * agent's small heap, filled the old generation and turned into a full collection every second (measured on loopback:
 * 950 collections and 3.3 s of pauses in 40 s of upload, the agent at 0.6x ssh; 0.85-1.0x with far fewer). Only a
 * connection whose window is at least four chunks queues in chunks, so what it holds stays within its window and a
 * quarter; a smaller window (interactive traffic, or any window under a pressed budget) queues each packet in an
 * array of its size, as before, and those are written in batches.
 */
final class TargetWriter extends OutputStream {

    static final long LINGER_SECONDS = 30;
    /** What the writer hands the target in one write at most, of packets queued in arrays of their own size. */
    private static final int BATCH = 256 * 1024;
    /** The size of a pooled chunk, and of a write from one. */
    static final int CHUNK = 64 * 1024;
    /**
     * Chunks kept for reuse, shared by every connection of the agent: up to one largest window (16 MiB), what a bulk
     * transfer keeps in flight (a pool of 2 MiB still allocated half of what it carried). Let go once the agent is
     * quiet after a burst (IdleHeapTrim).
     */
    private static final ChunkPool POOL = new ChunkPool(ReceiveWindow.MAX / CHUNK);
    private static final ScheduledExecutorService LINGER_CLOCK = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "jumpgate-linger");
        thread.setDaemon(true);
        return thread;
    });

    /** The target connection's own ends, as the writer needs them. */
    interface Target {
        OutputStream output() throws IOException;

        void shutdownOutput();

        /** Closes the connection for good, whatever is still queued. */
        void close();
    }

    private final RelayChannel relay;
    private final ReceiveWindow window;
    private final Target target;
    private final ForwardTraffic traffic;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    /** Queued or being written. */
    private long waiting;
    private boolean eof;
    private boolean closeWhenWritten;
    private boolean finished;
    /** The writer waits for data: only then does a packet wake it. */
    private boolean idle;
    /** The connection is closed for good: nothing more to write. */
    private boolean ended;
    private IOException failure;
    private Thread writer;
    /** The forced close after LINGER_SECONDS, cancelled when the connection closes before. */
    private ScheduledFuture<?> linger;

    TargetWriter(RelayChannel relay, ReceiveWindow window, Target target, ForwardTraffic traffic) {
        this.relay = relay;
        this.window = window;
        this.target = target;
        this.traffic = traffic;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    /** On the session's thread: queues and returns at once. */
    @Override
    public void write(byte[] data, int offset, int length) throws IOException {
        relay.dataArriving();
        lock.lock();
        try {
            if (failure != null) {
                throw failure;
            }
            if (eof || finished) {
                throw new IOException("data after the end of the connection");
            }
            enqueue(data, offset, length);
            waiting += length;
            traffic.waiting(length);
            if (writer == null) {
                writer = SshThreads.start("jumpgate-target-writer", this::writeQueue);
            } else if (idle) {
                changed.signal(); // a busy writer finds it on its next turn: no wake-up per packet
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void flush() {
        // each packet is written by this connection's own thread
    }

    /** EOF from the relay (or the channel's end): half-close the target once the queue is written. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (eof) {
                return;
            }
            eof = true;
            if (writer != null) {
                changed.signal();
                return;
            }
            finished = true;
        } finally {
            lock.unlock();
        }
        target.shutdownOutput();
    }

    /**
     * The connection is being closed: true if data is still queued, then it is written first and this writer closes
     * the target connection itself (after {@link #LINGER_SECONDS} at most); false if it may close now.
     */
    boolean closeWhenWritten() {
        lock.lock();
        try {
            if (finished || failure != null || waiting == 0) {
                return false;
            }
            if (!closeWhenWritten) {
                closeWhenWritten = true;
                changed.signal();
                linger = LINGER_CLOCK.schedule(target::close, LINGER_SECONDS, TimeUnit.SECONDS);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The connection is closed for good: this connection's thread ends, its window goes back to the budget. */
    void released() {
        lock.lock();
        try {
            ended = true;
            dropQueue();
            changed.signal();
            if (linger != null) {
                linger.cancel(false);
            }
        } finally {
            lock.unlock();
        }
        window.close();
    }

    /** Bytes waiting for the target: a pooled chunk (filled up to {@code length}) or an array of one packet. */
    private static final class Queued {
        final byte[] bytes;
        int length;
        final boolean pooled;

        Queued(byte[] bytes, int length, boolean pooled) {
            this.bytes = bytes;
            this.length = length;
            this.pooled = pooled;
        }
    }

    /** Queues a packet (the caller holds the lock): topping up the last chunk first, in new chunks or an array. */
    private void enqueue(byte[] data, int offset, int length) {
        Queued last = queue.peekLast();
        if (last != null && last.pooled && last.length < CHUNK) {
            int fits = Math.min(length, CHUNK - last.length);
            System.arraycopy(data, offset, last.bytes, last.length, fits);
            last.length += fits;
            offset += fits;
            length -= fits;
        }
        if (length == 0) {
            return;
        }
        if (window.size() < 4 * CHUNK) {
            queue.add(new Queued(Arrays.copyOfRange(data, offset, offset + length), length, false));
            return;
        }
        while (length > 0) {
            int fits = Math.min(length, CHUNK);
            byte[] chunk = POOL.take();
            System.arraycopy(data, offset, chunk, 0, fits);
            queue.add(new Queued(chunk, fits, true));
            offset += fits;
            length -= fits;
        }
    }

    /**
     * What to write next (the caller holds the lock): the first chunk, taken off the queue so nothing is added to it
     * any more; or, of packets in arrays of their own, as many as fit {@link #BATCH}, as one array: one system call
     * and one credit per batch, not per packet.
     */
    private Queued takeBatch() {
        Queued first = queue.poll();
        if (first.pooled) {
            return first;
        }
        int length = first.length;
        int packets = 1;
        for (Queued next : queue) {
            if (next.pooled || length + next.length > BATCH) {
                break;
            }
            length += next.length;
            packets++;
        }
        if (packets == 1) {
            return first;
        }
        byte[] batch = Arrays.copyOf(first.bytes, length);
        for (int at = first.length; at < length; ) {
            Queued next = queue.poll();
            System.arraycopy(next.bytes, 0, batch, at, next.length);
            at += next.length;
        }
        return new Queued(batch, length, false);
    }

    /** Lets the pooled chunks go, for the collector to give back to the system: the agent is quiet. */
    static void releasePooledChunks() {
        POOL.clear();
    }

    /** Chunks in the pool, ready for the next burst. */
    static int chunksKept() {
        return POOL.kept();
    }

    /** A chunk goes back to the pool once: when written, or when the queue is dropped. */
    private static void done(Queued written) {
        if (written.pooled) {
            POOL.give(written.bytes);
        }
    }

    private void dropQueue() {
        for (Queued dropped : queue) {
            done(dropped);
        }
        queue.clear();
        traffic.waiting(-waiting);
        waiting = 0;
    }

    private void writeQueue() {
        boolean halfClose = false;
        boolean close = false;
        try {
            OutputStream out = target.output();
            while (true) {
                Queued batch;
                lock.lock();
                try {
                    while (queue.isEmpty() && !eof && !closeWhenWritten && !ended) {
                        idle = true;
                        changed.await();
                    }
                    idle = false;
                    if (ended || queue.isEmpty()) {
                        halfClose = eof && !ended;
                        close = closeWhenWritten;
                        break;
                    }
                    batch = takeBatch();
                } finally {
                    lock.unlock();
                }
                int length = batch.length;
                try {
                    out.write(batch.bytes, 0, length);
                } finally {
                    done(batch);
                }
                traffic.sentToTarget(length);
                long still;
                lock.lock();
                try {
                    if (ended) {
                        break; // closed meanwhile: the queue was dropped
                    }
                    waiting -= length;
                    traffic.waiting(-length);
                    still = waiting;
                } finally {
                    lock.unlock();
                }
                int credit = window.drained(length, still);
                if (credit > 0) {
                    try {
                        relay.credit(credit);
                    } catch (IOException e) {
                        // the session is gone: what is queued still goes to the target
                    }
                }
            }
        } catch (IOException e) {
            lock.lock();
            try {
                failure = e;
                dropQueue();
            } finally {
                lock.unlock();
            }
            close = true; // the target is gone: the channel ends with the socket
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close = true;
        } finally {
            lock.lock();
            try {
                finished = true;
            } finally {
                lock.unlock();
            }
        }
        if (halfClose) {
            target.shutdownOutput();
        }
        if (close) {
            target.close();
        }
    }
}
