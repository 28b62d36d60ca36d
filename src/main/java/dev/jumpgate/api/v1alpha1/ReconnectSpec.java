package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

@ValidationRule(value = "self.minBackoffSeconds <= self.maxBackoffSeconds",
        message = "minBackoffSeconds must not exceed maxBackoffSeconds")
public class ReconnectSpec {

    @Min(1)
    @Max(3600)
    @Default("1")
    @JsonPropertyDescription("The first wait after a failed or lost connection, in seconds; it doubles on each failure.")
    private int minBackoffSeconds = 1;

    @Min(1)
    @Max(3600)
    @Default("30")
    @JsonPropertyDescription("The longest wait between attempts, in seconds; also the wait after a refused login or "
            + "host key, which retrying sooner would not fix.")
    private int maxBackoffSeconds = 30;

    @Min(5)
    @Max(3600)
    @Default("30")
    @JsonPropertyDescription("With spec.fallbackRelays: while the tunnel is held on a fallback relay, how often the agent "
            + "tries the relays it prefers, in seconds.")
    private int failbackSeconds = 30;

    public int getMinBackoffSeconds() { return minBackoffSeconds; }
    public void setMinBackoffSeconds(int minBackoffSeconds) { this.minBackoffSeconds = minBackoffSeconds; }
    public int getMaxBackoffSeconds() { return maxBackoffSeconds; }
    public void setMaxBackoffSeconds(int maxBackoffSeconds) { this.maxBackoffSeconds = maxBackoffSeconds; }
    public int getFailbackSeconds() { return failbackSeconds; }
    public void setFailbackSeconds(int failbackSeconds) { this.failbackSeconds = failbackSeconds; }
}
