package dev.jumpgate.agent;

import dev.jumpgate.contract.ApiServerAccess;
import dev.jumpgate.contract.AgentContract;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Handler;
import java.util.logging.Level;
import org.jboss.logmanager.LogContext;
import org.jboss.logmanager.formatters.PatternFormatter;
import org.jboss.logmanager.handlers.ConsoleHandler;

/**
 * The agent's own process, without the operator's framework: an agent holds SSH sessions, and a JVM that loads
 * only JSch, the JDK's HTTP client for its few API requests (KubernetesApi) and the JDK's HTTP server for its probes
 * idles in far less memory than one that boots Quarkus and Vert.x, or the Kubernetes client, for the same work
 * (BENCHMARKS.md, footprint). Three ways in:
 * <ul>
 * <li>no arguments: the agent in a pod the operator made; the pod's environment names the Secret that lists
 * the tunnels it serves (health and metrics on port 8080, or JUMPGATE_HTTP_PORT);</li>
 * <li>{@code agent --file tunnel.yaml [--file ...] --identity KEY}: the standalone agent, one or more tunnels (health and metrics on
 * JUMPGATE_HTTP_HOST:JUMPGATE_HTTP_PORT, 127.0.0.1:9090 unless set);</li>
 * <li>{@code authorized-key --file tunnel.yaml --identity KEY}: prints the relay's authorized_keys line.</li>
 * </ul>
 */
public final class AgentMain {

    static {
        // Before anything logs: the JBoss LogManager (as under Quarkus) takes the records of every logging API here
        // (JBoss Logging of our code, System.Logger of the JDK's HTTP client and server).
        defaultProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
        // The JDK's HTTP server (AgentHttpServer) cuts off a client that sends its request or reads the reply for
        // longer than this: settings of the whole process, read once when the first server is made.
        defaultProperty("sun.net.httpserver.maxReqTime", "10");
        defaultProperty("sun.net.httpserver.maxRspTime", "10");
    }

    /** The operator's log format (application.properties), on stderr: stdout is for what a command prints. */
    private static final String LOG_FORMAT = "%d{HH:mm:ss.SSS} %-5p [%c{1.}] %s%e%n";

    private AgentMain() {
    }

    public static void main(String[] args) {
        // Instead of what the classpath brings: Quarkus's boot jars install a handler that holds every record until
        // Quarkus configures logging, which never happens in this process.
        ConsoleHandler console = new ConsoleHandler(ConsoleHandler.Target.SYSTEM_ERR, new PatternFormatter(LOG_FORMAT));
        console.setAutoFlush(true);
        org.jboss.logmanager.Logger root = LogContext.getLogContext().getLogger("");
        root.setHandlers(new Handler[] {console});
        root.setLevel(Level.parse(setting("JUMPGATE_LOG_LEVEL", "INFO").toUpperCase(java.util.Locale.ROOT))); // FINE for what JSch and the API requests say
        int status = run(List.of(args));
        if (status != 0) {
            System.exit(status);
        }
    }

    private static int run(List<String> args) {
        if (!args.isEmpty() && args.get(0).equals("authorized-key")) {
            try {
                System.out.println(StandaloneAgent.authorizedKey(args.subList(1, args.size())));
                return 0;
            } catch (StandaloneAgent.BadInput e) {
                System.err.println("jumpgate: " + e.getMessage());
                return 2;
            }
        }
        boolean inPod = System.getenv(AgentContract.POOL_CONFIG_ENV) != null;
        if (args.isEmpty() ? !inPod : !args.get(0).equals("agent")) {
            System.err.println(StandaloneAgent.USAGE);
            return 2;
        }
        List<StandaloneAgent> standalone = null;
        if (!args.isEmpty()) {
            try {
                standalone = StandaloneAgent.parseAll(args.subList(1, args.size()));
            } catch (StandaloneAgent.BadInput e) {
                System.err.println("jumpgate: " + e.getMessage());
                return 2;
            }
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AgentRuntime runtime = new AgentRuntime(registry);
        InetSocketAddress http = standalone == null
                ? new InetSocketAddress(intSetting("JUMPGATE_HTTP_PORT", AgentContract.HTTP_PORT))
                : new InetSocketAddress(setting("JUMPGATE_HTTP_HOST", "127.0.0.1"), intSetting("JUMPGATE_HTTP_PORT", 9090));
        AgentHttpServer server;
        try {
            server = AgentHttpServer.start(http, runtime, registry);
        } catch (IOException e) {
            System.err.println("jumpgate: cannot serve health and metrics on " + http + ": " + e.getMessage());
            return 1;
        }
        AutoCloseable agent;
        try {
            agent = standalone != null ? startStandalone(standalone, runtime) : startInPod(runtime);
        } catch (RuntimeException e) {
            // Not a process that serves probes for an agent that never started: it ends, and the pod says why.
            System.err.println("jumpgate: the agent cannot start: " + e.getMessage());
            server.close();
            return 1;
        }
        IdleHeapTrim.start(runtime);
        waitForShutdown(agent, server);
        return 0;
    }

    private static AutoCloseable startStandalone(List<StandaloneAgent> tunnels, AgentRuntime runtime) {
        tunnels.forEach(tunnel -> tunnel.start(runtime));
        runtime.markStarted();
        return runtime::stop;
    }

    /** Serves the tunnels its list names; with a leader Lease, only while this pod holds it (AgentLeadership). */
    private static AutoCloseable startInPod(AgentRuntime runtime) {
        PoolAgent.Settings settings = new PoolAgent.Settings(required(AgentContract.NAMESPACE_ENV),
                required(AgentContract.POOL_CONFIG_ENV), setting("HOSTNAME", "agent"));
        KubernetesApi api = new KubernetesApi(ApiServerAccess.inCluster());
        String leaderLease = setting(AgentContract.LEADER_LEASE_ENV, "");
        if (leaderLease.isEmpty()) {
            return PoolAgent.start(runtime, api, settings);
        }
        HolderProbe probe = new HolderProbe(runtime, api, settings);
        return AgentLeadership.start(api, settings.namespace(), leaderLease, settings.holder(), runtime, () -> {
            probe.close();
            return PoolAgent.start(runtime, api, settings);
        }, probe::warmUp, probe);
    }

    /** Until SIGTERM (the pod deleted) or SIGINT: then the forwards are cancelled and the last report says so. */
    private static void waitForShutdown(AutoCloseable agent, AgentHttpServer server) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                agent.close();
            } catch (Exception e) {
                System.err.println("jumpgate: stopping the agent: " + e);
            } finally {
                server.close();
                stopped.countDown();
            }
        }, "jumpgate-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String required(String variable) {
        String value = System.getenv(variable);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException(variable + " is not set; the operator sets it in agent pods");
        }
        return value;
    }

    private static String setting(String variable, String otherwise) {
        String value = System.getenv(variable);
        return value == null || value.isBlank() ? otherwise : value;
    }

    private static int intSetting(String variable, int otherwise) {
        return Integer.parseInt(setting(variable, Integer.toString(otherwise)));
    }

    private static void defaultProperty(String name, String value) {
        if (System.getProperty(name) == null) {
            System.setProperty(name, value);
        }
    }
}
