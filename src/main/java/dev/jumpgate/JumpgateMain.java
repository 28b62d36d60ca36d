package dev.jumpgate;

import dev.jumpgate.agent.AgentRuntime;
import dev.jumpgate.agent.ClusterAgent;
import dev.jumpgate.agent.StandaloneAgent;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * One image, three ways to run: the operator (default), the agent in a pod the operator made
 * ({@code JUMPGATE_MODE=agent}), and the standalone agent ({@code jumpgate agent --file ... --identity ...}).
 * The operator is started here rather than by the SDK, because whether it starts is decided at run time.
 */
@QuarkusMain
public class JumpgateMain implements QuarkusApplication {

    private static final Logger LOG = Logger.getLogger(JumpgateMain.class);

    @Inject
    Instance<Operator> operator;

    @Inject
    Instance<KubernetesClient> client;

    @Inject
    AgentRuntime agentRuntime;

    @ConfigProperty(name = "jumpgate.mode", defaultValue = "operator")
    String mode;

    @Override
    public int run(String... args) {
        if (args.length > 0) {
            return standalone(List.of(args));
        }
        switch (mode) {
            case "operator" -> {
                operator.get().start();
                Quarkus.waitForExit();
            }
            case "agent" -> {
                // Closed on the way out: the forwards are cancelled and the last report says so.
                try (ClusterAgent agent = inCluster()) {
                    Quarkus.waitForExit();
                }
            }
            default -> {
                LOG.errorf("jumpgate.mode must be operator or agent, not %s", mode);
                return 2;
            }
        }
        return 0;
    }

    private int standalone(List<String> args) {
        if (args.get(0).equals("authorized-key")) {
            try {
                System.out.println(StandaloneAgent.authorizedKey(args.subList(1, args.size())));
                return 0;
            } catch (StandaloneAgent.BadInput e) {
                System.err.println("jumpgate: " + e.getMessage());
                return 2;
            }
        }
        if (!args.get(0).equals("agent")) {
            System.err.println(StandaloneAgent.USAGE);
            return 2;
        }
        try {
            StandaloneAgent.parse(args.subList(1, args.size())).start(agentRuntime);
        } catch (StandaloneAgent.BadInput e) {
            System.err.println("jumpgate: " + e.getMessage());
            return 2;
        }
        Quarkus.waitForExit();
        agentRuntime.stop();
        return 0;
    }

    private ClusterAgent inCluster() {
        return ClusterAgent.start(agentRuntime, client.get(), new ClusterAgent.Settings(
                required("JUMPGATE_TUNNEL_NAMESPACE"),
                required("JUMPGATE_TUNNEL_NAME"),
                required("JUMPGATE_LEASE_NAME"),
                System.getenv().getOrDefault("HOSTNAME", "agent"),
                Path.of(required("JUMPGATE_IDENTITY"))));
    }

    private static String required(String variable) {
        String value = System.getenv(variable);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException(variable + " is not set; the operator sets it in agent pods");
        }
        return value;
    }

    @Override
    public String toString() {
        return "JumpgateMain" + Arrays.toString(new String[] {mode});
    }
}
