package dev.jumpgate.operator.dependent;

import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.operator.AgentKey;
import dev.jumpgate.operator.InformerCaches;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import dev.jumpgate.ssh.Ed25519KeyPair;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The agent's ed25519 key, generated when the spec names no Secret. Created, never updated: regenerating it would
 * lock the agent out of every relay that trusts it. Removed with the tunnel.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.KEY_SECRETS_SELECTOR, itemStore = InformerCaches.KeySecretsWithoutPrivateKey.class))
public class KeySecretDependent extends KubernetesDependentResource<Secret, ReverseTunnel>
        implements Creator<Secret, ReverseTunnel>, GarbageCollected<ReverseTunnel> {

    public KeySecretDependent() {
        super(Secret.class);
    }

    @Override
    protected Secret desired(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        Ed25519KeyPair key = Ed25519KeyPair.generate(tunnel.keyComment());
        return new SecretBuilder()
                .withMetadata(Labels.metadata(tunnel, Names.keySecret(tunnel)))
                .withType("kubernetes.io/ssh-auth")
                .withData(Map.of(
                        AgentKey.PRIVATE_KEY, base64(key.privateKeyPem()),
                        AgentKey.PUBLIC_KEY, base64(key.publicKey().toString())))
                .build();
    }

    /**
     * The tunnel's key Secret among the Secrets it owns, told by its name. JOSDK would otherwise compute the desired
     * Secret to learn that name, at every reconcile: a new key pair each time, thrown away (a fifth of the operator's
     * CPU with thousands of tunnels).
     */
    @Override
    protected Optional<Secret> selectTargetSecondaryResource(Set<Secret> secondaries, ReverseTunnel tunnel,
            Context<ReverseTunnel> context) {
        String name = Names.keySecret(tunnel);
        return secondaries.stream().filter(secret -> name.equals(secret.getMetadata().getName())).findFirst();
    }

    @Override
    public Secret create(Secret desired, ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        Secret created = super.create(desired, tunnel, context);
        AgentKey.created(created, context);
        return created;
    }

    /**
     * Kept when the spec switches to a Secret of its own: switching back must find the same key, which the relay
     * already trusts. The owner reference removes it with the tunnel.
     */
    @Override
    protected void handleDelete(ReverseTunnel tunnel, Secret secret, Context<ReverseTunnel> context) {
    }

    private static String base64(String value) {
        return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
    }

    /** Only when the spec names no key Secret of its own. */
    public static class Wanted implements Condition<Secret, ReverseTunnel> {
        @Override
        public boolean isMet(DependentResource<Secret, ReverseTunnel> dependent, ReverseTunnel tunnel,
                Context<ReverseTunnel> context) {
            return AgentKey.generated(tunnel);
        }
    }
}
