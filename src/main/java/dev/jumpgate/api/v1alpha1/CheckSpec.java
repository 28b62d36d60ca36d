package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** How often, and how patiently, the agent checks each forward end to end (see {@link ForwardCheck}). */
public class CheckSpec {

    public static final int DEFAULT_INTERVAL_SECONDS = 30;
    public static final int DEFAULT_TIMEOUT_SECONDS = 10;

    @Min(5)
    @Max(3600)
    @Default("" + DEFAULT_INTERVAL_SECONDS)
    @JsonPropertyDescription("Seconds between two checks of a forward: one short connection from the relay to the "
            + "forward's own listen, through the agent, to the target. A fault shows in status within two intervals.")
    private int intervalSeconds = DEFAULT_INTERVAL_SECONDS;

    @Min(1)
    @Max(60)
    @Default("" + DEFAULT_TIMEOUT_SECONDS)
    @JsonPropertyDescription("Seconds a check waits for each step (the relay's connection, the target's answer) before "
            + "it calls the forward unreachable; at most the interval.")
    private int timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;

    public int getIntervalSeconds() { return intervalSeconds; }
    public void setIntervalSeconds(int intervalSeconds) { this.intervalSeconds = intervalSeconds; }
    public int getTimeoutSeconds() { return timeoutSeconds; }
    public void setTimeoutSeconds(int timeoutSeconds) { this.timeoutSeconds = timeoutSeconds; }
}
