package dev.jumpgate.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.api.v1alpha1.ForwardState;
import dev.jumpgate.api.v1alpha1.Reasons;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What makes a report news worth a write to the API server, and what waits for the heartbeat. */
class AgentReportTest {

    @Test
    void aNewerCheckTimeOrANewNextAttemptIsNotNewsButANewVerdictOrReasonIs() {
        AgentReport retrying = report(Reasons.RELAY_UNREACHABLE, "2026-12-02T10:00:05Z", true, "2026-12-02T10:00:00Z");

        assertThat(retrying.sameApartFromTimes(
                report(Reasons.RELAY_UNREACHABLE, "2026-12-02T10:00:13Z", true, "2026-12-02T10:00:30Z"))).isTrue();
        assertThat(retrying.sameApartFromTimes(
                report(Reasons.AUTHENTICATION_FAILED, "2026-12-02T10:00:05Z", true, "2026-12-02T10:00:00Z"))).isFalse();
        assertThat(retrying.sameApartFromTimes(
                report(Reasons.RELAY_UNREACHABLE, "2026-12-02T10:00:05Z", false, "2026-12-02T10:00:00Z"))).isFalse();
        assertThat(retrying.sameApartFromTimes(null)).isFalse();
    }

    private static AgentReport report(String reason, String nextAttempt, boolean reachable, String checkedAt) {
        return new AgentReport(1, false, reason, "message", null, 0, "message", nextAttempt, null, null, null, null,
                null, List.of(new ForwardReport("ssh", "0.0.0.0", 4040, 4040, "10.8.92.10:22", ForwardState.Bound,
                        Reasons.REACHABLE, "checked", 0,
                        new CheckReport(reachable, checkedAt, 3, "relay.example.com:4040"))), null);
    }
}
