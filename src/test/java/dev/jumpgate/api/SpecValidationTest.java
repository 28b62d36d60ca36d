package dev.jumpgate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumpgate.api.v1alpha1.ForwardCheck;
import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.HostKeyPolicy;
import dev.jumpgate.api.v1alpha1.RemoteEndpoint;
import dev.jumpgate.api.v1alpha1.ReverseTunnelSpec;
import dev.jumpgate.api.v1alpha1.SpecValidation;
import dev.jumpgate.api.v1alpha1.TargetEndpoint;
import dev.jumpgate.testing.InvalidTunnels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpecValidationTest {

    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN relay";

    private static ReverseTunnelSpec valid() {
        ReverseTunnelSpec spec = new ReverseTunnelSpec();
        spec.getRelay().setHost("relay.example.com");
        spec.getRelay().setUser("tunnel");
        spec.getRelay().setHostKeys(new ArrayList<>(List.of(KEY)));
        spec.setForwards(new ArrayList<>(List.of(forward("ssh", 4040, 22))));
        return spec;
    }

    private static ForwardSpec forward(String name, int remotePort, int targetPort) {
        return new ForwardSpec(name, new RemoteEndpoint("0.0.0.0", remotePort), new TargetEndpoint("10.8.92.10", targetPort));
    }

    @Test
    void theReadmeExampleIsValid() {
        assertThat(SpecValidation.problems(valid())).isEmpty();
    }

    @Test
    void hostKeysAreRequiredUnlessTrustOnFirstUseIsAskedFor() {
        ReverseTunnelSpec spec = valid();
        spec.getRelay().getHostKeys().clear();
        assertThat(SpecValidation.problems(spec)).singleElement().asString().startsWith("spec.relay.hostKeys:");

        spec.getRelay().setHostKeyPolicy(HostKeyPolicy.AcceptNew);
        assertThat(SpecValidation.problems(spec)).isEmpty();
    }

    @Test
    void everyProblemIsNamedByItsField() {
        ReverseTunnelSpec spec = valid();
        spec.getRelay().setHost(" ");
        spec.getRelay().setPort(0);
        spec.getRelay().getHostKeys().set(0, "ssh-ed25519 AAAA-not-base64");
        spec.getForwards().add(forward("ssh", 4040, 70000));
        spec.getForwards().add(forward("Web", -1, 80));
        spec.getReconnect().setMinBackoffSeconds(60);

        assertThat(SpecValidation.problems(spec)).containsExactly(
                "spec.relay.host: required",
                "spec.relay.port: must be between 1 and 65535, got 0",
                "spec.relay.hostKeys[0]: the key of type ssh-ed25519 is not valid base64",
                "spec.forwards[1].name: ssh is used by another forward",
                "spec.forwards[1].remote: 0.0.0.0:4040 is used by another forward",
                "spec.forwards[1].target.port: must be between 1 and 65535, got 70000",
                "spec.forwards[2].name: must be a DNS label (lower case letters, digits and '-'), got Web",
                "spec.forwards[2].remote.port: must be between 0 and 65535, got -1",
                "spec.reconnect: minBackoffSeconds must not exceed maxBackoffSeconds");
    }

    @Test
    void aTunnelWithoutForwardsIsRefused() {
        ReverseTunnelSpec spec = valid();
        spec.getForwards().clear();
        assertThat(SpecValidation.problems(spec)).containsExactly("spec.forwards: at least one forward is required");
    }

    @Test
    void everyTunnelTheApiServerRejectsIsRefusedHereForTheSameField() {
        for (InvalidTunnels.Rejected c : InvalidTunnels.rejected()) {
            if (c.field().startsWith("metadata")) {
                continue; // about the object's name, which the spec's validation is not given
            }
            List<String> refusal;
            try {
                refusal = SpecValidation.problems(SpecValidation.read(c.yaml("ns")).getSpec());
            } catch (IllegalArgumentException unreadable) {
                refusal = List.of(unreadable.getMessage()); // a value of another type: refused as the file is read
            }
            assertThat(refusal).as("%s: %s", c.name(), c.says()).anySatisfy(problem -> assertThat(problem)
                    .startsWith(c.field()));
        }
    }

    @Test
    void aValueOfAnotherTypeIsRefusedAsTheFileIsReadNotConverted() {
        for (String relay : List.of("{host: relay, user: tunnel, port: \"22\", hostKeyPolicy: AcceptNew}",
                "{host: relay, user: tunnel, port: 22.5, hostKeyPolicy: AcceptNew}",
                "{host: relay, user: tunnel, hostKeys: \"" + InvalidTunnels.KEY + "\"}")) {
            String yaml = InvalidTunnels.yaml("t", "ns", relay, InvalidTunnels.FORWARD, "");
            assertThatThrownBy(() -> SpecValidation.read(yaml)).as(relay).isInstanceOf(IllegalArgumentException.class);
        }
        String valid = InvalidTunnels.yaml("t", "ns", InvalidTunnels.RELAY, InvalidTunnels.FORWARD, "");
        assertThat(SpecValidation.problems(SpecValidation.read(valid).getSpec())).isEmpty();
    }

    @Test
    void aRepeatedKeyANullForwardAndHostileTextAreRefusedWithoutEchoingIt() {
        String twice = InvalidTunnels.yaml("t", "ns", "{host: relay, user: tunnel, hostKeyPolicy: Pinned, "
                + "hostKeyPolicy: AcceptNew}", InvalidTunnels.FORWARD, "");
        assertThatThrownBy(() -> SpecValidation.read(twice)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("hostKeyPolicy");

        String nullForward = InvalidTunnels.yaml("t", "ns", InvalidTunnels.RELAY, "[~]", "");
        assertThat(SpecValidation.problems(SpecValidation.read(nullForward).getSpec()))
                .containsExactly("spec.forwards[0]: must not be null");

        ReverseTunnelSpec spec = valid();
        spec.getForwards().add(forward("ssh", 4041, 22));
        spec.getForwards().get(1).setName("ssh\u202e\nx".repeat(30));
        spec.getRelay().getHostKeys().set(0, "ssh-ed25519 AAAA\u2028" + "A".repeat(4000));
        assertThat(SpecValidation.problems(spec)).isNotEmpty().allSatisfy(problem -> assertThat(problem)
                .doesNotContain("\n", "\u202e", "\u2028").hasSizeLessThan(400));
    }

    @Test
    void everyEnumValueOfTheApiReadsBackAsItselfFromBareYaml() {
        // YAML 1.1 (kubectl's, and the standalone agent's) reads bare on/off/yes/no/y/n as booleans: a value spelled so
        // would reach the API server as false and be refused as a boolean (it happened to check: Off).
        java.util.regex.Pattern yaml11Boolean = java.util.regex.Pattern.compile("(?i)y|yes|n|no|on|off|true|false");
        List<Class<? extends Enum<?>>> apiEnums = List.of(ForwardCheck.class, HostKeyPolicy.class);
        for (Class<? extends Enum<?>> type : apiEnums) {
            for (Enum<?> value : type.getEnumConstants()) {
                assertThat(value.name()).as("%s.%s", type.getSimpleName(), value).doesNotMatch(yaml11Boolean);
            }
        }
        for (ForwardCheck mode : ForwardCheck.values()) {
            String yaml = InvalidTunnels.yaml("t", "ns", InvalidTunnels.RELAY, "[{name: ssh, check: " + mode
                    + ", remote: {port: 4040}, target: {host: a, port: 22}}]", "");
            assertThat(SpecValidation.read(yaml).getSpec().getForwards().get(0).getCheck()).isEqualTo(mode);
        }
    }

    @Test
    void severalForwardsMayAskTheRelayForAnyPort() {
        ReverseTunnelSpec spec = valid();
        spec.getForwards().add(forward("a", 0, 80));
        spec.getForwards().add(forward("b", 0, 81));
        assertThat(SpecValidation.problems(spec)).isEmpty();
    }
}
