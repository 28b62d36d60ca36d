package dev.jumpgate.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The metrics the chart's monitoring (alerts and dashboard) reads, as the chart renders them, and as a scrape has them. */
public final class ChartMetrics {

    private static final Pattern NAME = Pattern.compile("\\bjumpgate_[a-z_]+[a-z]\\b");

    private ChartMetrics() {
    }

    /** Every jumpgate_ metric name in the chart rendered with its PrometheusRule and Grafana dashboard on. */
    public static Set<String> usedByTheChart() {
        String yaml = HostCommand.helm().run(Duration.ofSeconds(60), "template", "jumpgate",
                Path.of("helm", "jumpgate").toString(), "--set", "metrics.agentPodMonitor.enabled=true",
                "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.grafanaDashboard.enabled=true").orThrow();
        return names(yaml);
    }

    /** The metric names a /q/metrics page declares (its # TYPE lines), counters with their _total. */
    public static Set<String> served(String scrape) {
        Set<String> names = new TreeSet<>();
        for (String line : scrape.lines().toList()) {
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                names.add(parts[2]);
                if (parts.length > 3 && parts[3].equals("counter") && !parts[2].endsWith("_total")) {
                    names.add(parts[2] + "_total");
                }
            }
        }
        return names;
    }

    private static Set<String> names(String text) {
        Set<String> names = new TreeSet<>();
        Matcher m = NAME.matcher(text);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }
}
