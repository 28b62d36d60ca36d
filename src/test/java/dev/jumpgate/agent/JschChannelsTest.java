package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.Session;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Tier 1: what the agent relies on inside JSch (JschChannels), checked against the JSch on the classpath. A JSch
 * upgrade fails here first: read ChannelForwardedTCPIP, Channel and Session of the new version again (javap), adjust
 * JschChannels, then WRITTEN_FOR. If the new version has public setters for a forwarded channel's window
 * (mwiede/jsch#1145), use them and delete JschChannels.
 */
class JschChannelsTest {

    @Test
    void theJschOnTheClasspathIsTheOneTheAccessorWasWrittenFor() {
        assertThat(Session.class.getPackage().getImplementationVersion()).isEqualTo(JschChannels.WRITTEN_FOR);
        JschChannels.check();
    }

    @Test
    void aForwardedChannelBeingOpenedOnTheSessionThreadGetsTheWindowAndPacketSize() throws Exception {
        Session session = new JSch().getSession("tunnel", "relay.example");
        Object channel = newForwardedChannel();
        channels(session).add(channel);
        set(session, "connectThread", Thread.currentThread()); // as when JSch's session thread asks for a thread

        assertThat(JschChannels.sizeOpeningForwardedChannel(session, 4 << 20, 32 << 10)).isTrue();

        assertThat(get(channel, "lwsize_max")).isEqualTo(4 << 20);
        assertThat(get(channel, "lwsize")).as("the window the confirmation announces").isEqualTo(4 << 20);
        assertThat(get(channel, "lmpsize")).isEqualTo(32 << 10);
        assertThat(JschChannels.sizeOpeningForwardedChannel(session, 8 << 20, 32 << 10))
                .as("a channel already sized may have confirmed itself: left alone").isFalse();
        assertThat(get(channel, "lwsize_max")).isEqualTo(4 << 20);
    }

    @Test
    void nothingIsSizedFromAnotherThreadThanTheSessions() throws Exception {
        Session session = new JSch().getSession("tunnel", "relay.example");
        Object channel = newForwardedChannel();
        channels(session).add(channel);
        set(session, "connectThread", new Thread(() -> { }));

        assertThat(JschChannels.sizeOpeningForwardedChannel(session, 4 << 20, 32 << 10)).isFalse();

        assertThat(get(channel, "lwsize_max")).isEqualTo(JschChannels.JSCH_FORWARDED_WINDOW);
        assertThat(get(channel, "lmpsize")).isEqualTo(JschChannels.JSCH_FORWARDED_PACKET);
    }

    private static Object newForwardedChannel() throws Exception {
        Constructor<?> constructor = Class.forName("com.jcraft.jsch.ChannelForwardedTCPIP").getDeclaredConstructor();
        constructor.setAccessible(true);
        return constructor.newInstance();
    }

    @SuppressWarnings("unchecked")
    private static List<Object> channels(Session session) throws Exception {
        Field field = Session.class.getDeclaredField("channels");
        field.setAccessible(true);
        return (List<Object>) field.get(session);
    }

    private static void set(Object owner, String name, Object value) throws Exception {
        Field field = owner.getClass().getDeclaredField(name);
        field.setAccessible(true);
        field.set(owner, value);
    }

    private static Object get(Object channel, String name) throws Exception {
        Field field = Class.forName("com.jcraft.jsch.Channel").getDeclaredField(name);
        field.setAccessible(true);
        return field.get(channel);
    }
}
