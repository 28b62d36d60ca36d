package dev.jumpgate.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layers of docs/architecture.md, checked on the code's imports and fully qualified names: ssh (key and line
 * formats) depends on nothing of ours; the API types only on ssh; the report on the API and the contract; the agent
 * and the operator never on each other (they meet in the contract and the report).
 */
class PackageDependenciesTest {

    private static final Path SOURCES = Path.of("src/main/java/dev/jumpgate");
    /** An import or a fully qualified name in code: both are a dependency. */
    private static final Pattern OURS = Pattern.compile("\\bdev\\.jumpgate\\.(\\w+)\\.");

    /** For each package, the packages of ours it may import (besides itself). */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "ssh", Set.of(),
            "api", Set.of("ssh"),
            "contract", Set.of(),
            "report", Set.of("api", "contract"),
            "agent", Set.of("api", "contract", "report", "ssh"),
            "operator", Set.of("api", "contract", "report", "ssh"));

    @Test
    void eachPackageImportsOnlyTheLayersBelowIt() throws IOException {
        for (var entry : ALLOWED.entrySet()) {
            assertThat(importedBy(entry.getKey())).as("what %s imports of ours", entry.getKey())
                    .isSubsetOf(entry.getValue());
        }
    }

    @Test
    void everyPackageHasItsPlaceInTheLayers() throws IOException {
        try (Stream<Path> dirs = Files.list(SOURCES)) {
            assertThat(dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()))
                    .as("a new package says what it may import here").allMatch(ALLOWED::containsKey);
        }
    }

    private static Set<String> importedBy(String pkg) throws IOException {
        Set<String> imported = new TreeSet<>();
        try (Stream<Path> files = Files.walk(SOURCES.resolve(pkg))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String code = Files.readString(file).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("(?m)//.*$", "")
                        .replaceAll("(?m)^package .*$", "");
                Matcher m = OURS.matcher(code);
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        imported.add(m.group(1));
                    }
                }
            }
        }
        return imported;
    }
}
