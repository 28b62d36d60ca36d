package dev.jumpgate.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.testing.OpenSshRelay;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The relay block the README shows relay owners is the one the tests' relays run (OpenSshRelay, hack/topology.sh). */
class RelayBlockInReadmeTest {

    @Test
    void theReadmeShowsTheRecommendedBlockLineForLine() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        assertThat(Files.readAllLines(OpenSshRelay.RECOMMENDED_BLOCK).stream().filter(l -> !l.startsWith("#")))
                .isNotEmpty()
                .allSatisfy(line -> assertThat(readme).contains("\n    " + line + "\n"));
    }
}
