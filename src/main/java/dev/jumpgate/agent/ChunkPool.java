package dev.jumpgate.agent;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * Byte arrays of {@link TargetWriter#CHUNK} for the data path from the relay to the targets, reused: a bulk transfer
 * then allocates nothing per packet. Keeps at most {@code kept} between bursts; a chunk given back beyond that is left
 * to the collector, and a chunk taken from an empty pool is new. Thread-safe: the session's thread takes, the
 * connections' writers give back.
 */
final class ChunkPool {

    private final ArrayBlockingQueue<byte[]> free;

    ChunkPool(int kept) {
        this.free = new ArrayBlockingQueue<>(kept);
    }

    byte[] take() {
        byte[] chunk = free.poll();
        return chunk != null ? chunk : new byte[TargetWriter.CHUNK];
    }

    void give(byte[] chunk) {
        free.offer(chunk);
    }

    void clear() {
        free.clear();
    }

    int kept() {
        return free.size();
    }
}
