package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.SecretKeyRef;
import dev.jumpgate.operator.status.TunnelObservation.HandOverProblem;
import dev.jumpgate.ssh.PrivateKeys;
import dev.jumpgate.ssh.PublicKeyLine;
import dev.jumpgate.ssh.SshCertificate;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The Secret that holds a tunnel's private key, the user's or the generated one, as found at this reconcile: what
 * the agent's list names and the status shows.
 *
 * @param secretName the Secret's name
 * @param dataKey    the data key of the private key in it
 * @param version    the Secret's uid and resourceVersion, which roll the agent when the key changes; null while there
 *                   is none. Nothing derived from the key itself: the value lands in the pod template, which more
 *                   people may read than the Secret.
 * @param problem    why the agent cannot use the key; null when it can
 * @param publicKey  the public half ("ssh-ed25519 AAAA..."), when it can be told
 * @param certificateKey the data key of the key's OpenSSH certificate in the same Secret, when it has one: the user's
 *                   spec.auth.secretRef.certificateKey, or {@link #CERTIFICATE} once the operator's CA issued one
 * @param certificate what that certificate says of itself
 */
public record AgentKey(String secretName, String dataKey, String version, HandOverProblem problem, String publicKey,
        String certificateKey, SshCertificate certificate) {

    public static final String PRIVATE_KEY = SecretKeyRef.DEFAULT_KEY;
    /** Stored beside the private key in generated Secrets, and read from users' Secrets when present. */
    public static final String PUBLIC_KEY = "ssh-publickey";
    /** Where the operator's user CA puts the generated key's certificate, in the key's Secret. */
    public static final String CERTIFICATE = "ssh-certificate";

    private AgentKey(String secretName, String dataKey, String version, HandOverProblem problem, String publicKey) {
        this(secretName, dataKey, version, problem, publicKey, null, null);
    }

    /** Where the key Secret created by this very reconcile's workflow is left for {@link #of}. */
    private static final String CREATED_KEY = AgentKey.class.getName() + ".created";

    public static AgentKey of(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        return resolve(tunnel, context);
    }

    /**
     * Called with the key Secret the workflow has just created: the informer has not seen it yet, and without it
     * the tunnel would wait for another reconcile (and write its status twice) before being handed to its agent.
     */
    public static void created(Secret secret, Context<ReverseTunnel> context) {
        context.managedWorkflowAndDependentResourceContext().put(CREATED_KEY, secret);
    }

    /** Whether the operator generates the tunnel's key: the spec names no Secret of the user's. */
    public static boolean generated(ReverseTunnel tunnel) {
        return tunnel.getSpec() == null || tunnel.getSpec().getAuth() == null
                || tunnel.getSpec().getAuth().getSecretRef() == null;
    }

    private static AgentKey resolve(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        if (generated(tunnel)) {
            String name = Names.keySecret(tunnel);
            Secret generated = context.getSecondaryResources(Secret.class).stream()
                    .filter(s -> name.equals(s.getMetadata().getName())).findFirst()
                    .or(() -> context.managedWorkflowAndDependentResourceContext().get(CREATED_KEY, Secret.class))
                    .orElse(null);
            if (generated == null) {
                // Being created by the workflow right now: not a problem, just not there yet.
                return new AgentKey(name, PRIVATE_KEY, null, null, null);
            }
            return inspect(name, PRIVATE_KEY, CERTIFICATE, generated, true);
        }
        SecretKeyRef ref = tunnel.getSpec().getAuth().getSecretRef();
        // Users' Secrets carry none of our labels, so no informer sees them: read it.
        Secret secret = context.getClient().secrets().inNamespace(tunnel.getMetadata().getNamespace())
                .withName(ref.getName()).get();
        if (secret == null) {
            return new AgentKey(ref.getName(), ref.getKey(), null, new HandOverProblem(Reasons.SECRET_MISSING, "Secret "
                    + ref.getName() + " not found in namespace " + tunnel.getMetadata().getNamespace()), null);
        }
        String owner = secret.getMetadata().getLabels() == null ? null
                : secret.getMetadata().getLabels().get(Labels.TUNNEL);
        if (owner != null && !owner.equals(tunnel.getMetadata().getName())) {
            // Another tunnel's generated key, or an agent's list: naming it would borrow that tunnel's access to its
            // relay (and put the Secret in this tunnel's agent's reach).
            return new AgentKey(ref.getName(), ref.getKey(), null, new HandOverProblem(Reasons.KEY_INVALID, "Secret "
                    + ref.getName() + " is the key Jumpgate made for tunnel " + owner + "; name a Secret of your own"), null);
        }
        if (secret.getMetadata().getLabels() != null && secret.getMetadata().getLabels().containsKey(Labels.AGENT)) {
            return new AgentKey(ref.getName(), ref.getKey(), null, new HandOverProblem(Reasons.KEY_INVALID, "Secret "
                    + ref.getName() + " is an agent's list of tunnels, not a key"), null);
        }
        return inspect(ref.getName(), ref.getKey(), ref.getCertificateKey(), secret, false);
    }

    /**
     * A generated Secret comes from the informer's cache, whose private key is blanked
     * ({@link InformerCaches.KeySecretsWithoutPrivateKey}): the operator wrote that key and need not check it. Its
     * certificate is there once the operator's CA issued one; a user's Secret must hold the one its spec names.
     */
    static AgentKey inspect(String name, String dataKey, String certificateKey, Secret secret, boolean generated) {
        String privateKey = data(secret, dataKey);
        if (privateKey == null) {
            return new AgentKey(name, dataKey, null, new HandOverProblem(Reasons.SECRET_MISSING, "Secret " + name
                    + " has no data key " + dataKey), null);
        }
        String unusable = generated ? null : PrivateKeys.problem(privateKey.getBytes(StandardCharsets.UTF_8));
        if (unusable != null) {
            return new AgentKey(name, dataKey, null, new HandOverProblem(Reasons.KEY_INVALID, "the data key " + dataKey
                    + " of Secret " + name + " " + unusable), null);
        }
        String version = secret.getMetadata().getUid() + ":" + secret.getMetadata().getResourceVersion();
        String publicKey = data(secret, PUBLIC_KEY);
        try {
            publicKey = publicKey != null ? PublicKeyLine.parse(publicKey).toKeyString()
                    : PublicKeyLine.fromOpenSshPrivateKey(privateKey).toKeyString();
        } catch (IllegalArgumentException e) {
            publicKey = null; // a PEM or PKCS#8 key: the agent may still use it, we just cannot show its public half
        }
        String certificateLine = certificateKey == null ? null : data(secret, certificateKey);
        if (certificateLine == null) {
            return generated || certificateKey == null ? new AgentKey(name, dataKey, version, null, publicKey)
                    : new AgentKey(name, dataKey, null, new HandOverProblem(Reasons.SECRET_MISSING, "Secret " + name
                            + " has no data key " + certificateKey + " (spec.auth.secretRef.certificateKey)"), publicKey);
        }
        SshCertificate certificate;
        try {
            certificate = SshCertificate.parse(certificateLine);
        } catch (IllegalArgumentException e) {
            if (generated) {
                return new AgentKey(name, dataKey, version, null, publicKey); // the operator's CA issues another
            }
            return new AgentKey(name, dataKey, null, new HandOverProblem(Reasons.KEY_INVALID, "the data key "
                    + certificateKey + " of Secret " + name + " is not an OpenSSH certificate (a -cert.pub line): "
                    + e.getMessage()), publicKey);
        }
        if (certificate.certifiedKey() != null && publicKey != null
                && !certificate.certifiedKey().toKeyString().equals(publicKey)) {
            if (generated) {
                return new AgentKey(name, dataKey, version, null, publicKey);
            }
            return new AgentKey(name, dataKey, null, new HandOverProblem(Reasons.KEY_INVALID, "the certificate in data key "
                    + certificateKey + " of Secret " + name + " is for another key than " + dataKey), publicKey);
        }
        return new AgentKey(name, dataKey, version, null, publicKey, certificateKey, certificate);
    }

    /** The same key, not to be used: why not. */
    public AgentKey refused(HandOverProblem why) {
        return new AgentKey(secretName, dataKey, null, why, publicKey);
    }

    /** The same key without its certificate: the agent is not told of it. */
    public AgentKey withoutCertificate() {
        return new AgentKey(secretName, dataKey, version, problem, publicKey);
    }

    /** Whether the agent can be deployed with this key now. */
    public boolean available() {
        return problem == null && version != null;
    }

    /** A data key's text, from data (base64) or stringData; null when the Secret has no such key. */
    static String data(Secret secret, String key) {
        if (secret.getData() != null && secret.getData().get(key) != null) {
            return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
        }
        if (secret.getStringData() != null) {
            return secret.getStringData().get(key);
        }
        return null;
    }

    @Override
    public String toString() {
        return "AgentKey[" + secretName + "/" + dataKey + (problem == null ? "" : ", " + problem.message()) + "]";
    }
}
