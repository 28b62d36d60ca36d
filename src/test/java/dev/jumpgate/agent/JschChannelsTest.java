package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.jcraft.jsch.Channel;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.Session;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Tier 1: what the agent relies on inside JSch (JschChannels), checked against the JSch on the classpath. A JSch
 * upgrade fails here first: read ChannelForwardedTCPIP, Channel, Packet and Session (its run loop: what it does with a
 * data packet and the window) of the new version again, adjust JschChannels, then WRITTEN_FOR. If the new version has
 * public setters for a forwarded channel's window and a way to credit it from outside (mwiede/jsch#1145), use them and
 * delete JschChannels.
 */
class JschChannelsTest {

    @Test
    void theJschOnTheClasspathIsTheOneTheAccessorWasWrittenFor() {
        assertThat(Session.class.getPackage().getImplementationVersion()).isEqualTo(JschChannels.WRITTEN_FOR);
        JschChannels.check();
    }

    @Test
    void aForwardedChannelBeingOpenedOnTheSessionThreadIsClaimedWithTheWindowAndPacketSize() throws Exception {
        Session session = new JSch().getSession("tunnel", "relay.example");
        Object channel = newForwardedChannel();
        channels(session).add(channel);
        set(session, "connectThread", Thread.currentThread()); // as when JSch's session thread asks for a thread

        assertThat(JschChannels.claimOpeningForwardedChannel(session, 2 << 20, 32 << 10)).isSameAs(channel);

        assertThat(get(channel, "lwsize")).as("the window the confirmation announces").isEqualTo(2 << 20);
        assertThat(get(channel, "lmpsize")).isEqualTo(32 << 10);
        assertThat(get(channel, "lwsize_max")).as("JSch credits only below half of this: never").isEqualTo(0);
        assertThat(JschChannels.claimOpeningForwardedChannel(session, 8 << 20, 32 << 10))
                .as("a channel already claimed may have confirmed itself: left alone").isNull();
        assertThat(get(channel, "lwsize")).isEqualTo(2 << 20);
    }

    @Test
    void aChannelTheAgentOpensMeanwhileDoesNotCostTheForwardedChannelItsClaim() throws Exception {
        Session session = new JSch().getSession("tunnel", "relay.example");
        Object forwarded = newForwardedChannel();
        channels(session).add(forwarded);
        // The end-to-end check's direct-tcpip channel, opened on its own thread between the relay's open and the
        // session thread's call to the thread factory.
        channels(session).add(newChannel("com.jcraft.jsch.ChannelDirectTCPIP"));
        set(session, "connectThread", Thread.currentThread());

        assertThat(JschChannels.claimOpeningForwardedChannel(session, 2 << 20, 32 << 10)).isSameAs(forwarded);
        assertThat(get(forwarded, "lwsize")).isEqualTo(2 << 20);
    }

    @Test
    void jschsOwnAdjustStaysOffWhateverArrives() throws Exception {
        Session session = new JSch().getSession("tunnel", "relay.example");
        Object channel = newForwardedChannel();
        channels(session).add(channel);
        set(session, "connectThread", Thread.currentThread());
        Channel claimed = JschChannels.claimOpeningForwardedChannel(session, 8 << 10, 32 << 10);

        // What JSch's session thread does for every data packet: hand it over, lower lwsize, credit below half.
        for (int packet = 0; packet < 100_000; packet++) {
            JschChannels.keepOwnAdjustOff(claimed);
            int lwsize = (int) get(channel, "lwsize") - 32 * 1024;
            set(channel, "lwsize", lwsize);
            assertThat(lwsize < (int) get(channel, "lwsize_max") / 2).isFalse();
        }
    }

    @Test
    void nothingIsClaimedFromAnotherThreadThanTheSessions() throws Exception {
        Session session = new JSch().getSession("tunnel", "relay.example");
        Object channel = newForwardedChannel();
        channels(session).add(channel);
        set(session, "connectThread", new Thread(() -> { }));

        assertThat(JschChannels.claimOpeningForwardedChannel(session, 2 << 20, 32 << 10)).isNull();

        assertThat(get(channel, "lwsize_max")).isEqualTo(JschChannels.JSCH_FORWARDED_WINDOW);
        assertThat(get(channel, "lmpsize")).isEqualTo(JschChannels.JSCH_FORWARDED_PACKET);
    }

    private static Object newForwardedChannel() throws Exception {
        return newChannel("com.jcraft.jsch.ChannelForwardedTCPIP");
    }

    private static Object newChannel(String type) throws Exception {
        Constructor<?> constructor = Class.forName(type).getDeclaredConstructor();
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
        Field field = owner instanceof Session ? Session.class.getDeclaredField(name)
                : Class.forName("com.jcraft.jsch.Channel").getDeclaredField(name);
        field.setAccessible(true);
        field.set(owner, value);
    }

    private static Object get(Object channel, String name) throws Exception {
        Field field = Class.forName("com.jcraft.jsch.Channel").getDeclaredField(name);
        field.setAccessible(true);
        return field.get(channel);
    }
}
