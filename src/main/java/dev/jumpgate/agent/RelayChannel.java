package dev.jumpgate.agent;

import java.io.IOException;

/** The relay's end of one forwarded connection, as the path from the relay to the target needs it. */
interface RelayChannel {

    /** Data from the relay is being handed over, on the thread that reads the session. */
    void dataArriving();

    /** Lets the relay send {@code bytes} more into this connection (an SSH window adjust). */
    void credit(int bytes) throws IOException;
}
