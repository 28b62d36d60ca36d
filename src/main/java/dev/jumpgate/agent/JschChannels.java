package dev.jumpgate.agent;

import com.jcraft.jsch.Session;
import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;

/**
 * The one place where the agent reaches into JSch for what it does not offer publicly: the window and packet size
 * of a forwarded channel. JSch gives every forwarded channel a fixed 128 KiB window and 16 KiB packets; on a WAN that
 * caps an upload through a forward at one window per round trip (1.3 MiB/s at 25 ms one way, where ssh's 2 MiB window
 * gives 36 MiB/s: BENCHMARKS.md, wan). Its public setters refuse a connected channel, and forwarded channels are born
 * connected. mwiede/jsch#1145 proposes public setters; a release with them retires this class.
 *
 * <p>The moment used: JSch creates a forwarded channel on its session thread, adds it to the session's channels and
 * asks the session's thread factory for the channel's thread; the channel confirms itself to the relay, window and
 * packet size included, only on that thread. So while the factory runs on the session thread, the session's newest
 * channel is the one being opened and not yet confirmed: its window can still be anything.
 *
 * <p>Every member relied on is looked up once; if a JSch upgrade changed one, {@link #check()} says which at the
 * agent's start instead of a silent fallback (JschChannelsTest pins the version this was read from).
 */
final class JschChannels {

    /** The JSch version this class was read from; JschChannelsTest fails on any other, to be read again. */
    static final String WRITTEN_FOR = "2.28.8";
    /** What ChannelForwardedTCPIP's constructor sets, to recognise a channel nobody has sized yet. */
    static final int JSCH_FORWARDED_WINDOW = 128 * 1024;
    static final int JSCH_FORWARDED_PACKET = 16 * 1024;

    private static final Class<?> FORWARDED;
    private static final Field CHANNELS;
    private static final Field CHANNELS_LOCK;
    private static final Field CONNECT_THREAD;
    private static final Field WINDOW;
    private static final Field WINDOW_MAX;
    private static final Field PACKET;
    private static final String MISSING;

    static {
        Class<?> forwarded = null;
        Field channels = null;
        Field channelsLock = null;
        Field connectThread = null;
        Field window = null;
        Field windowMax = null;
        Field packet = null;
        String missing = null;
        try {
            forwarded = Class.forName("com.jcraft.jsch.ChannelForwardedTCPIP");
            Class<?> channel = Class.forName("com.jcraft.jsch.Channel");
            channels = field(Session.class, "channels", List.class);
            channelsLock = field(Session.class, "channelsLock", ReadWriteLock.class);
            connectThread = field(Session.class, "connectThread", Thread.class);
            window = field(channel, "lwsize", int.class);
            windowMax = field(channel, "lwsize_max", int.class);
            packet = field(channel, "lmpsize", int.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            missing = "this JSch (" + Session.class.getPackage().getImplementationVersion() + ") lacks what the agent "
                    + "sizes forwarded channels' windows with (" + e + "); it was written against " + WRITTEN_FOR;
        }
        FORWARDED = forwarded;
        CHANNELS = channels;
        CHANNELS_LOCK = channelsLock;
        CONNECT_THREAD = connectThread;
        WINDOW = window;
        WINDOW_MAX = windowMax;
        PACKET = packet;
        MISSING = missing;
    }

    private JschChannels() {
    }

    private static Field field(Class<?> owner, String name, Class<?> type) throws NoSuchFieldException {
        Field field = owner.getDeclaredField(name);
        if (!type.isAssignableFrom(field.getType())) {
            throw new NoSuchFieldException(owner.getName() + "." + name + " is a " + field.getType().getName()
                    + ", not a " + type.getName());
        }
        field.setAccessible(true);
        return field;
    }

    /** Throws, saying what is missing, if this JSch is not the one the accessor was written for. */
    static void check() {
        if (MISSING != null) {
            throw new IllegalStateException(MISSING);
        }
    }

    /**
     * Gives the forwarded channel the session is opening now its window and packet size, before it confirms itself
     * to the relay. Does nothing unless called on the session's own thread with a forwarded channel newest and not
     * yet sized (the thread factory also makes the session's thread and other channels' threads). Returns whether
     * it sized one.
     */
    static boolean sizeOpeningForwardedChannel(Session session, int window, int packet) {
        if (MISSING != null) {
            return false;
        }
        try {
            if (CONNECT_THREAD.get(session) != Thread.currentThread()) {
                return false;
            }
            Lock lock = ((ReadWriteLock) CHANNELS_LOCK.get(session)).readLock();
            Object newest;
            lock.lock();
            try {
                List<?> channels = (List<?>) CHANNELS.get(session);
                newest = channels.isEmpty() ? null : channels.get(channels.size() - 1);
            } finally {
                lock.unlock();
            }
            if (!FORWARDED.isInstance(newest) || WINDOW_MAX.getInt(newest) != JSCH_FORWARDED_WINDOW
                    || WINDOW.getInt(newest) != JSCH_FORWARDED_WINDOW || PACKET.getInt(newest) != JSCH_FORWARDED_PACKET) {
                return false;
            }
            WINDOW_MAX.setInt(newest, window);
            WINDOW.setInt(newest, window);
            PACKET.setInt(newest, packet);
            return true;
        } catch (IllegalAccessException e) {
            return false; // setAccessible succeeded at load: not reached
        }
    }
}
