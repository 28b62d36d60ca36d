package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

public class KeepaliveSpec {

    @Min(1)
    @Max(3600)
    @Default("10")
    @JsonPropertyDescription("Seconds between keepalives when the relay is silent (ssh's ServerAliveInterval).")
    private int intervalSeconds = 10;

    @Min(1)
    @Max(100)
    @Default("3")
    @JsonPropertyDescription("Unanswered keepalives after which the relay is declared dead and the agent reconnects "
            + "(ssh's ServerAliveCountMax).")
    private int countMax = 3;

    public int getIntervalSeconds() { return intervalSeconds; }
    public void setIntervalSeconds(int intervalSeconds) { this.intervalSeconds = intervalSeconds; }
    public int getCountMax() { return countMax; }
    public void setCountMax(int countMax) { this.countMax = countMax; }
}
