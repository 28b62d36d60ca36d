package dev.jumpgate.agent;

import com.jcraft.jsch.Session;
import java.lang.reflect.Method;
import java.util.concurrent.ThreadFactory;

/**
 * The threads the SSH library starts: a reader per session and one per connection through a forward, for as long as
 * the connection is open. On a Java 24+ runtime (the image's is 25) they are virtual threads, so that a forward
 * holding thousands of connections costs a few kilobytes of heap each instead of a kernel thread and its stack each;
 * before, they are the platform threads the library makes by default.
 *
 * <p>Why not from Java 21, where virtual threads arrived: the library waits for the relay's window with
 * {@code Object.wait} inside {@code synchronized}, and until Java 24 (JEP 491) that pins the carrier thread. A few
 * hundred connections whose readers on the Internet side stop reading would then pin every carrier, and the session's
 * own reader, keepalives included, would never run again.
 */
final class SshThreads {

    private static final ThreadFactory FACTORY = virtualThreads();

    private SshThreads() {
    }

    /**
     * The factory to hand to a session ({@code Session.setThreadFactory}): besides making its threads, it is where
     * each forwarded channel gets its window and packet size, on the session's thread, before the channel confirms
     * itself to the relay ({@link JschChannels}).
     */
    static ThreadFactory forSession(Session session, int channelWindow, int channelPacket) {
        return task -> {
            JschChannels.sizeOpeningForwardedChannel(session, channelWindow, channelPacket);
            return FACTORY.newThread(task);
        };
    }

    /** Whether connections run on virtual threads (the runtime has them), for the agent's start-up line. */
    static boolean virtual() {
        return FACTORY != PlatformThreads.INSTANCE;
    }

    /** {@code Thread.ofVirtual().factory()}, looked up at run time: the code is compiled for Java 17. */
    private static ThreadFactory virtualThreads() {
        if (Runtime.version().feature() < 24) {
            return PlatformThreads.INSTANCE;
        }
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
