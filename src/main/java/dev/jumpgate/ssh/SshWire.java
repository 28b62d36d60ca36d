package dev.jumpgate.ssh;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.BufferUnderflowException;
import java.nio.charset.StandardCharsets;

/** The SSH wire encoding (RFC 4251 section 5): uint32 and length-prefixed strings, all that key formats need. */
final class SshWire {

    private SshWire() {
    }

    static Writer writer() {
        return new Writer();
    }

    static Reader reader(byte[] bytes) {
        return new Reader(bytes);
    }

    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer uint32(int value) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(value).array());
            return this;
        }

        Writer uint64(long value) {
            out.writeBytes(ByteBuffer.allocate(8).putLong(value).array());
            return this;
        }

        Writer string(byte[] value) {
            uint32(value.length);
            out.writeBytes(value);
            return this;
        }

        Writer string(String value) {
            return string(value.getBytes(StandardCharsets.UTF_8));
        }

        Writer raw(byte[] value) {
            out.writeBytes(value);
            return this;
        }

        int size() {
            return out.size();
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    static final class Reader {
        private final ByteBuffer buffer;

        Reader(byte[] bytes) {
            this.buffer = ByteBuffer.wrap(bytes);
        }

        int uint32() {
            try {
                return buffer.getInt();
            } catch (BufferUnderflowException e) {
                throw new IllegalArgumentException("truncated SSH key data");
            }
        }

        byte[] readBytes() {
            int length = uint32();
            if (length < 0 || length > buffer.remaining()) {
                throw new IllegalArgumentException("truncated SSH key data");
            }
            byte[] value = new byte[length];
            buffer.get(value);
            return value;
        }

        String readString() {
            return new String(readBytes(), StandardCharsets.UTF_8);
        }

        int remaining() {
            return buffer.remaining();
        }

        long uint64() {
            try {
                return buffer.getLong();
            } catch (BufferUnderflowException e) {
                throw new IllegalArgumentException("truncated SSH key data");
            }
        }
    }
}
