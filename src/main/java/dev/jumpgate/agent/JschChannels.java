package dev.jumpgate.agent;

import com.jcraft.jsch.Buffer;
import com.jcraft.jsch.Channel;
import com.jcraft.jsch.Session;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;

/**
 * The one place where the agent reaches into JSch for what it does not offer publicly: a forwarded channel's window,
 * its packet size, and when window adjusts are sent. JSch gives every forwarded channel a fixed 128 KiB window and
 * 16 KiB packets, and credits the relay for data as soon as its session thread has written it to the target, with a
 * blocking write: on a WAN that capped an upload at one window per round trip (1.3 MiB/s at 25 ms one way, where ssh
 * gives 36 MiB/s: BENCHMARKS.md, wan), and one target that stops reading stopped every forward of the session. Its
 * public setters refuse a connected channel, and forwarded channels are born connected. mwiede/jsch#1145 proposes
 * public setters; a release with them and a way to credit a channel's window from outside retires this class.
 *
 * <p>The moments used:
 * <ul>
 * <li>JSch creates a forwarded channel on its session thread, adds it to the session's channels and asks the
 * session's thread factory for the channel's thread; the channel confirms itself to the relay, window and packet size
 * included, only on that thread. So while the factory runs on the session thread, the session's newest channel is the
 * one being opened and not yet confirmed ({@link #claimOpeningForwardedChannel}).
 * <li>After handing a data packet to the channel's output stream, the session thread lowers the channel's
 * {@code lwsize} by its length and, if below half of {@code lwsize_max}, credits the relay the difference itself.
 * A claimed channel's {@code lwsize_max} is 0 and its output stream raises {@code lwsize} far above 0 on every packet
 * ({@link #keepOwnAdjustOff}), on that same thread, so JSch never credits it: only the agent does
 * ({@link #sendWindowAdjust}), for bytes its target accepted.
 * </ul>
 *
 * <p>Every member relied on is looked up once; if a JSch upgrade changed one, {@link #check()} says which when the
 * agent is created ({@link JschRelaySession#connector}) instead of a silent fallback (JschChannelsTest pins the
 * version this was read from).
 */
final class JschChannels {

    /** The JSch version this class was read from; JschChannelsTest fails on any other, to be read again. */
    static final String WRITTEN_FOR = "2.28.8";
    /** What ChannelForwardedTCPIP's constructor sets, to recognise a channel nobody has claimed yet. */
    static final int JSCH_FORWARDED_WINDOW = 128 * 1024;
    static final int JSCH_FORWARDED_PACKET = 16 * 1024;
    /** What a claimed channel's lwsize is set to before JSch subtracts a packet: far from 0 whatever the packet. */
    static final int FAR_FROM_EMPTY = 1 << 30;
    private static final byte SSH_MSG_CHANNEL_WINDOW_ADJUST = 93;

    private static final Class<?> FORWARDED;
    private static final Field CHANNELS;
    private static final Field CHANNELS_LOCK;
    private static final Field CONNECT_THREAD;
    private static final Field WINDOW;
    private static final Field WINDOW_MAX;
    private static final Field PACKET;
    private static final Field RECIPIENT;
    private static final Constructor<?> NEW_PACKET;
    private static final Method RESET_PACKET;
    private static final Method WRITE_PACKET;
    private static final String MISSING;

    static {
        Class<?> forwarded = null;
        Field channels = null;
        Field channelsLock = null;
        Field connectThread = null;
        Field window = null;
        Field windowMax = null;
        Field packet = null;
        Field recipient = null;
        Constructor<?> newPacket = null;
        Method resetPacket = null;
        Method writePacket = null;
        String missing = null;
        try {
            forwarded = Class.forName("com.jcraft.jsch.ChannelForwardedTCPIP");
            channels = field(Session.class, "channels", List.class);
            channelsLock = field(Session.class, "channelsLock", ReadWriteLock.class);
            connectThread = field(Session.class, "connectThread", Thread.class);
            window = field(Channel.class, "lwsize", int.class);
            windowMax = field(Channel.class, "lwsize_max", int.class);
            packet = field(Channel.class, "lmpsize", int.class);
            recipient = field(Channel.class, "recipient", int.class);
            Class<?> packetClass = Class.forName("com.jcraft.jsch.Packet");
            newPacket = packetClass.getDeclaredConstructor(Buffer.class);
            newPacket.setAccessible(true);
            resetPacket = packetClass.getDeclaredMethod("reset");
            resetPacket.setAccessible(true);
            writePacket = Session.class.getDeclaredMethod("write", packetClass);
            writePacket.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            missing = "this JSch (" + Session.class.getPackage().getImplementationVersion() + ") lacks what the agent "
                    + "manages forwarded channels' windows with (" + e + "); it was written against " + WRITTEN_FOR;
        }
        FORWARDED = forwarded;
        CHANNELS = channels;
        CHANNELS_LOCK = channelsLock;
        CONNECT_THREAD = connectThread;
        WINDOW = window;
        WINDOW_MAX = windowMax;
        PACKET = packet;
        RECIPIENT = recipient;
        NEW_PACKET = newPacket;
        RESET_PACKET = resetPacket;
        WRITE_PACKET = writePacket;
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
     * Takes over the window of a channel of ours before {@code connect} sends its open (JSch fixes 128 KiB in each
     * channel type's constructor and offers no setter): announces {@code window}, and switches JSch's own window
     * adjusts off as for a claimed forwarded channel. From then on the channel's output stream calls
     * {@link #keepOwnAdjustOff} on every packet, and its reader credits the peer with {@link #sendWindowAdjust}.
     */
    static void takeOverWindowBeforeOpen(Channel channel, int window) {
        check();
        try {
            WINDOW_MAX.setInt(channel, 0);
            WINDOW.setInt(channel, window);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Takes over the window of the forwarded channel the session is opening now, before it confirms itself to the
     * relay: announces {@code window} and {@code packet}, and switches JSch's own window adjusts off. Returns the
     * channel, or null unless called on the session's own thread with the newest forwarded channel not yet claimed
     * (the thread factory also makes the session's thread and other channels' threads). The newest forwarded channel,
     * not the newest channel: the agent opens channels of its own on other threads (the end-to-end check's
     * direct-tcpip, the key check's), and one added between the relay's open and this call must not cost the
     * forwarded connection its claim.
     */
    static Channel claimOpeningForwardedChannel(Session session, int window, int packet) {
        if (MISSING != null) {
            return null;
        }
        try {
            if (CONNECT_THREAD.get(session) != Thread.currentThread()) {
                return null;
            }
            Lock lock = ((ReadWriteLock) CHANNELS_LOCK.get(session)).readLock();
            Object newest;
            lock.lock();
            try {
                List<?> channels = (List<?>) CHANNELS.get(session);
                newest = null;
                for (int i = channels.size() - 1; i >= 0 && newest == null; i--) {
                    newest = FORWARDED.isInstance(channels.get(i)) ? channels.get(i) : null;
                }
            } finally {
                lock.unlock();
            }
            if (!FORWARDED.isInstance(newest) || WINDOW_MAX.getInt(newest) != JSCH_FORWARDED_WINDOW
                    || WINDOW.getInt(newest) != JSCH_FORWARDED_WINDOW || PACKET.getInt(newest) != JSCH_FORWARDED_PACKET) {
                return null;
            }
            WINDOW_MAX.setInt(newest, 0);
            WINDOW.setInt(newest, window);
            PACKET.setInt(newest, packet);
            return (Channel) newest;
        } catch (IllegalAccessException e) {
            return null; // setAccessible succeeded at load: not reached
        }
    }

    /**
     * Called by a claimed channel's output stream for every data packet, on the session thread, before JSch lowers
     * lwsize by the packet: it stays far above lwsize_max / 2 = 0, so JSch never sends an adjust of its own.
     */
    static void keepOwnAdjustOff(Channel channel) {
        try {
            WINDOW.setInt(channel, FAR_FROM_EMPTY);
        } catch (IllegalAccessException e) {
            // setAccessible succeeded at load: not reached
        }
    }

    /**
     * Lets the relay send {@code bytes} more into the channel. As JSch does for its own adjusts, under the channel's
     * lock and not once the channel is closed: an adjust for a channel the relay has forgotten ends the session.
     */
    static void sendWindowAdjust(Session session, Channel channel, int bytes) throws IOException {
        try {
            Buffer buffer = new Buffer(100);
            Object packet = NEW_PACKET.newInstance(buffer);
            RESET_PACKET.invoke(packet);
            buffer.putByte(SSH_MSG_CHANNEL_WINDOW_ADJUST);
            buffer.putInt(RECIPIENT.getInt(channel));
            buffer.putInt(bytes);
            synchronized (channel) {
                if (!channel.isClosed()) {
                    WRITE_PACKET.invoke(session, packet);
                }
            }
        } catch (InvocationTargetException e) {
            throw new IOException("the window adjust was not sent: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IOException("the window adjust was not sent: " + e, e);
        }
    }
}
