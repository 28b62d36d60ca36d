package dev.jumpgate.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumpgate.contract.AgentContract;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agent and the operator agree through {@link AgentContract} only: each of its values is used by both sides and
 * written nowhere else. A new contract value fails here until both sides read it from there.
 */
class AgentContractTest {

    private static final Path SOURCES = Path.of("src/main/java/dev/jumpgate");
    private static final Path CONTRACT = SOURCES.resolve("contract/AgentContract.java");
    private static final Path ENTRYPOINT = Path.of("src/main/docker/entrypoint.sh");
    /**
     * Values read outside Java: the image's entrypoint (a shell script) chooses the process by them, in the test
     * {@code [ "${JUMPGATE_MODE:-operator}" = agent ]}; each value as that code uses it.
     */
    private static final Map<String, Function<String, String>> READ_BY_ENTRYPOINT = Map.of(
            "MODE_ENV", value -> "\"${" + value + ":-",
            "AGENT_MODE", value -> "= " + value + " ]");

    @Test
    void everyContractValueIsUsedByTheAgentAndByTheOperator() throws IOException {
        String agent = code(SOURCES.resolve("agent"));
        String operator = code(SOURCES.resolve("operator"));
        for (Field field : contractFields()) {
            String use = "AgentContract." + field.getName();
            assertThat(operator).as("the operator uses %s", use).contains(use);
            Function<String, String> inScript = READ_BY_ENTRYPOINT.get(field.getName());
            if (inScript == null) {
                assertThat(agent).as("the agent uses %s", use).contains(use);
            } else {
                assertThat(withoutShellComments(Files.readString(ENTRYPOINT))).as("%s reads %s", ENTRYPOINT, use)
                        .contains(inScript.apply(value(field)));
            }
        }
    }

    @Test
    void noContractNameIsWrittenOutsideTheContract() throws IOException {
        // The names are distinctive enough to find as literals; numbers and durations are checked by use above.
        List<String> names = contractFields().stream().map(AgentContractTest::value)
                .filter(v -> v.startsWith("JUMPGATE_") || v.startsWith("jumpgate.dev/")).toList();
        assertThat(names).contains("JUMPGATE_POOL_CONFIG", "jumpgate.dev/agent-report");
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java") && !f.equals(CONTRACT)).toList()) {
                String code = withoutComments(Files.readString(file));
                for (String name : names) {
                    assertThat(code).as("%s writes the contract's \"%s\" itself", file, name).doesNotContain('"' + name + '"');
                }
            }
        }
    }

    private static List<Field> contractFields() {
        return Arrays.stream(AgentContract.class.getDeclaredFields())
                .filter(f -> Modifier.isPublic(f.getModifiers()) && Modifier.isStatic(f.getModifiers())).toList();
    }

    private static String value(Field field) {
        try {
            return String.valueOf(field.get(null));
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    private static String code(Path packageDir) throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(packageDir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                all.append(withoutComments(Files.readString(file)));
            }
        }
        return all.toString();
    }

    /** The script's code: its comments name the variable too, which proves nothing. */
    private static String withoutShellComments(String script) {
        return script.replaceAll("(?m)^\\s*#.*$", "");
    }

    /** Comments may name the contract's values (a javadoc saying which variable); only code must not. */
    private static String withoutComments(String java) {
        return java.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("(?m)^\\s*//.*$", "");
    }
}
