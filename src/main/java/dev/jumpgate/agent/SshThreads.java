package dev.jumpgate.agent;

import java.lang.reflect.Method;
import java.util.concurrent.ThreadFactory;

/**
 * The threads the SSH library starts: a reader per session and one per connection through a forward, for as long as
 * the connection is open. On a Java 21+ runtime (the image's is 25) they are virtual threads, so that a forward
 * holding thousands of connections costs a few kilobytes of heap each instead of a kernel thread and its stack each;
 * on Java 17 they are the platform threads the library makes by default.
 *
 * <p>Java 25 is the runtime to prefer: from Java 24 a virtual thread waiting inside {@code synchronized} (which the
 * library does while a connection waits for the relay's window) no longer holds its carrier thread.
 */
final class SshThreads {

    private static final ThreadFactory FACTORY = virtualThreads();

    private SshThreads() {
    }

    /** The factory to hand to every session ({@code Session.setThreadFactory}). */
    static ThreadFactory factory() {
        return FACTORY;
    }

    /** Whether connections run on virtual threads (the runtime has them), for the agent's start-up line. */
    static boolean virtual() {
        return FACTORY != PlatformThreads.INSTANCE;
    }

    /** {@code Thread.ofVirtual().factory()}, looked up at run time: the code is compiled for Java 17. */
    private static ThreadFactory virtualThreads() {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Method factory = Class.forName("java.lang.Thread$Builder").getMethod("factory");
            return (ThreadFactory) factory.invoke(builder);
        } catch (ReflectiveOperationException | LinkageError e) {
            return PlatformThreads.INSTANCE;
        }
    }

    /** What the library does without a factory. */
    private enum PlatformThreads implements ThreadFactory {
        INSTANCE;

        @Override
        public Thread newThread(Runnable r) {
            return new Thread(r);
        }
    }
}
