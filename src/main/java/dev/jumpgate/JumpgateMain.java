package dev.jumpgate;

import io.javaoperatorsdk.operator.Operator;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.inject.Inject;

/**
 * The operator's process. The agent runs in a process of its own without Quarkus (agent/AgentMain; the image's
 * entrypoint chooses by JUMPGATE_MODE). The operator is started here rather than by the SDK, so that a test of the
 * application can run without one.
 */
@QuarkusMain
public class JumpgateMain implements QuarkusApplication {

    @Inject
    Operator operator;

    @Override
    public int run(String... args) {
        operator.start();
        Quarkus.waitForExit();
        return 0;
    }
}
