package dev.jumpgate.agent;

import com.jcraft.jsch.Session;
import java.lang.reflect.Method;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * The threads the SSH library starts (a reader per session and one per connection through a forward, for as long as
 * the connection is open) and the agent's own (one per connection writing to its target, from its first data). On a
 * Java 24+ runtime (the image's is 25) they are virtual threads, so that a forward holding thousands of connections
 * costs a few kilobytes of heap each instead of a kernel thread and its stack each; before, platform threads.
 *
 * <p>Except the first {@link #PLATFORM_CONNECTIONS} connections open at once: their library threads (each reads its
 * target and sends to the relay) are platform threads. A virtual thread whose read finds the socket empty parks
 * through the JDK's poller (epoll re-armed, a wake-up and a hand-over to a carrier thread per packet) where a platform
 * thread just sleeps in read(2): a bulk download through the agent cost 2.5-2.9 ms of CPU per MiB on virtual threads
 * and 1.6-1.9 on platform threads (BENCHMARKS.md). A few busy connections get the cheap path; a flood of thousands
 * still costs kilobytes each. The session's own thread (one per session) is always a platform thread.
 *
 * <p>Why not from Java 21, where virtual threads arrived: the library waits for the relay's window with
 * {@code Object.wait} inside {@code synchronized}, and until Java 24 (JEP 491) that pins the carrier thread. A few
 * hundred connections whose readers on the Internet side stop reading would then pin every carrier, and the session's
 * own reader, keepalives included, would never run again.
 */
final class SshThreads {

    private static final Logger LOG = Logger.getLogger(SshThreads.class);
    private static final ThreadFactory FACTORY = virtualThreads();
    /** Connections open at once whose library thread is a platform thread; the ones beyond run on virtual threads. */
    static final int PLATFORM_CONNECTIONS = 32;
    private static final AtomicInteger PLATFORM_CONNECTIONS_IN_USE = new AtomicInteger();
    /** The connection being opened on this (channel) thread, for its target socket to adopt. */
    private static final ThreadLocal<ForwardedChannel> OPENING = new ThreadLocal<>();

    private SshThreads() {
    }

    /**
     * The factory to hand to a session ({@code Session.setThreadFactory}). It runs on the session's thread when the
     * relay opens a forwarded connection, before the channel confirms itself: there the agent takes over the channel's
     * window ({@link ForwardedChannel#claim}) and hands it to the channel's thread, where the target socket is made.
     * Any other thread of the session (its reader, an exec channel's) runs {@code ended} when it ends: the reader ends
     * with the session, so that whoever holds the session hears of its end at once, not at its next look.
     */
    static ThreadFactory forSession(Session session, WindowBudget windows, Runnable ended) {
        return task -> {
            ForwardedChannel opening = null;
            try {
                opening = ForwardedChannel.claim(session, windows);
            } catch (Throwable e) { // the session's thread dies silently on anything thrown here
                LOG.errorf("a forwarded connection's window could not be taken over: %s", e);
            }
            if (opening == null) { // the session's reader, or an exec channel's
                return PlatformThreads.INSTANCE.newThread(() -> {
                    try {
                        task.run();
                    } finally {
                        ended.run();
                    }
                });
            }
            ForwardedChannel claimed = opening;
            return connectionThread(() -> {
                OPENING.set(claimed);
                try {
                    task.run();
                } finally {
                    OPENING.remove();
                    claimed.channelThreadEnded();
                }
            });
        };
    }

    /**
     * A platform thread while fewer than {@link #PLATFORM_CONNECTIONS} connections hold one, else one of
     * {@link #FACTORY}'s. The place is taken when the thread is made (the library starts it at once) and given back
     * when its task ends.
     */
    static Thread connectionThread(Runnable task) {
        if (!virtual()) {
            return FACTORY.newThread(task); // platform threads for every connection anyway
        }
        if (PLATFORM_CONNECTIONS_IN_USE.incrementAndGet() > PLATFORM_CONNECTIONS) {
            PLATFORM_CONNECTIONS_IN_USE.decrementAndGet();
            return FACTORY.newThread(task);
        }
        return PlatformThreads.INSTANCE.newThread(() -> {
            try {
                task.run();
            } finally {
                PLATFORM_CONNECTIONS_IN_USE.decrementAndGet();
            }
        });
    }

    /** How many connections hold a platform thread now, for tests. */
    static int platformConnectionsInUse() {
        return PLATFORM_CONNECTIONS_IN_USE.get();
    }

    /** The connection being opened on this (channel) thread; null on any other thread. */
    static ForwardedChannel opening() {
        return OPENING.get();
    }

    /** Starts one of the agent's own threads, of the same kind as the library's. */
    static Thread start(String name, Runnable task) {
        Thread thread = named(name).newThread(task);
        thread.start();
        return thread;
    }

    /** Makes the agent's own threads, of the same kind as the library's: cheap to have many of on Java 24+. */
    static ThreadFactory named(String name) {
        return task -> {
            Thread thread = FACTORY.newThread(task);
            thread.setName(name);
            thread.setDaemon(true);
            return thread;
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
