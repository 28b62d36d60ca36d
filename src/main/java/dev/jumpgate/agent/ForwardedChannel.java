package dev.jumpgate.agent;

import com.jcraft.jsch.Channel;
import com.jcraft.jsch.Session;
import java.io.IOException;

/**
 * A forwarded connection the relay is opening, between the moment the agent takes over its window (on the session's
 * thread) and the moment its target socket adopts it (on the channel's own thread). If no socket adopts it (the
 * forward's cap, a target that refuses), its window goes back to the budget when the channel's thread ends.
 */
final class ForwardedChannel {

    /** Packets as OpenSSH's: JSch's own 16 KiB doubles the per-packet work. */
    static final int PACKET = 128 * 1024;

    private final RelayChannel relay;
    private final ReceiveWindow window;
    private volatile boolean adopted;

    ForwardedChannel(RelayChannel relay, ReceiveWindow window) {
        this.relay = relay;
        this.window = window;
    }

    /** The channel the session is opening now, its window taken from the budget; null if none is being opened. */
    static ForwardedChannel claim(Session session, WindowBudget windows) {
        ReceiveWindow window = ReceiveWindow.open(windows);
        Channel channel = JschChannels.claimOpeningForwardedChannel(session, window.size(), PACKET);
        if (channel == null) {
            window.close();
            return null;
        }
        return new ForwardedChannel(new RelayChannel() {
            @Override
            public void dataArriving() {
                JschChannels.keepOwnAdjustOff(channel);
            }

            @Override
            public void credit(int bytes) throws IOException {
                JschChannels.sendWindowAdjust(session, channel, bytes);
            }
        }, window);
    }

    RelayChannel relay() {
        return relay;
    }

    ReceiveWindow window() {
        return window;
    }

    void adopt() {
        adopted = true;
    }

    /** The channel's thread ended: a window no socket adopted is given back. */
    void channelThreadEnded() {
        if (!adopted) {
            window.close();
        }
    }
}
