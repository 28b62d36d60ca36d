package dev.jumpgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agent's class list (src/main/docker/agent.classlist, from which the Dockerfile writes the class-data archive)
 * names Jumpgate's classes as they are. The JVM skips a name it cannot find without a word (the Dockerfile discards
 * the dump's output), so a class renamed since the list was recorded would silently leave the archive and cost every
 * agent its metadata again. After a rename: hack/agent-classlist.sh, or rename it in the list.
 */
class AgentClassListTest {

    @Test
    void everyJumpgateClassTheListNamesExists() throws IOException {
        List<String> named = jumpgateClassesNamed(Path.of("src/main/docker/agent.classlist"));

        assertThat(named).as("the list names the agent's own classes").contains("dev.jumpgate.agent.AgentMain",
                "dev.jumpgate.agent.TunnelAgent", "dev.jumpgate.agent.JschRelaySession");
        assertThat(named).allSatisfy(name -> assertThat(exists(name)).as(name + " exists").isTrue());
    }

    /** Class lines ("a/b/C id: 7") and the owners of lambda proxies ("@lambda-proxy a/b/C ..."), Jumpgate's only. */
    private static List<String> jumpgateClassesNamed(Path list) throws IOException {
        try (Stream<String> lines = Files.lines(list)) {
            return lines.filter(line -> !line.startsWith("#"))
                    .map(line -> line.startsWith("@lambda-proxy ") ? line.split(" ")[1] : line.split(" ")[0])
                    .filter(name -> name.startsWith("dev/jumpgate/"))
                    .map(name -> name.replace('/', '.'))
                    .distinct()
                    .toList();
        }
    }

    private static boolean exists(String name) {
        try {
            Class.forName(name, false, AgentClassListTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
