package dev.jumpgate.agent;

import dev.jumpgate.api.v1alpha1.RelaySpec;
import java.util.List;

/** How {@link TunnelAgent} reaches its relay: {@link JschRelaySession#connector} in the agent, a script in tests. */
interface RelayConnector {

    /**
     * Opens a session, authenticating with the config's identity and checking the relay's host key against the pins
     * (an empty list accepts the first key, which {@link RelaySession#hostKey()} then tells). {@code ended} runs when
     * the session may have ended, on whatever thread notices: a hint to look at {@link RelaySession#isConnected()} now
     * rather than at the next poll (it may run at other times too).
     */
    RelaySession open(TunnelConfig config, List<String> pins, Runnable ended) throws RelayFailure;

    /**
     * Whether the relay's host accepts a TCP connection now: a probe far cheaper than an SSH handshake, so that a
     * relay whose sshd comes back is used at once rather than at the end of a backoff.
     */
    boolean accepts(RelaySpec relay, int timeoutMillis);
}
