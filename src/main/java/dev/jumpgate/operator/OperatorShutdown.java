package dev.jumpgate.operator;

import io.javaoperatorsdk.operator.Operator;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;

/**
 * Stops the operator when the process shuts down (SIGTERM from the kubelet: a rollout, a drain, a scale-down). The
 * Quarkus Operator SDK stops only an operator it started itself, and this one is started from code
 * (dev.jumpgate.JumpgateMain). Stopping it ends the in-flight reconciles, then the leader elector, whose end gives
 * the Lease up for a standby ({@link OperatorLeadership}).
 */
@Singleton
class OperatorShutdown {

    @Inject
    Operator operator;

    void stop(@Observes @Priority(Interceptor.Priority.APPLICATION) ShutdownEvent event) {
        OperatorLeadership.shuttingDown();
        operator.stop();
    }
}
