package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.ProxySpec;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.contract.PoolConfig;
import dev.jumpgate.operator.status.TunnelObservation.HandOverProblem;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/**
 * The Secret a tunnel's egress proxy credentials come from (spec.relay.proxy.credentialsSecret), as found at this
 * reconcile. Its agent's Role may read it only if its owner said it may go to this very proxy: the annotation
 * {@link ProxySpec#CREDENTIALS_FOR} lists the proxies' host:port. Without it, whoever may write tunnels in a namespace
 * could name any password Secret there (or a proxy's, with a proxy of their own) and have the agent send it, in clear
 * as Basic auth or SOCKS5's username and password, to a host of their choosing.
 *
 * @param name    the Secret's name; null when the tunnel names none
 * @param version its uid:resourceVersion, for the agent to read it again when it changes; null while unusable
 * @param problem why the agent cannot be given it; null when it can
 */
public record ProxyCredentialsSecret(String name, String version, HandOverProblem problem) {

    static final ProxyCredentialsSecret NONE = new ProxyCredentialsSecret(null, null, null);

    static ProxyCredentialsSecret of(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        ProxySpec proxy = tunnel.getSpec() == null || tunnel.getSpec().getRelay() == null ? null
                : tunnel.getSpec().getRelay().getProxy();
        if (proxy == null || proxy.getCredentialsSecret() == null) {
            return NONE;
        }
        String name = proxy.getCredentialsSecret();
        String namespace = tunnel.getMetadata().getNamespace();
        // Users' Secrets carry none of our labels, so no informer sees them: read it.
        Secret secret = context.getClient().secrets().inNamespace(namespace).withName(name).get();
        if (secret == null) {
            return new ProxyCredentialsSecret(name, null, new HandOverProblem(Reasons.SECRET_MISSING, "Secret " + name
                    + " (spec.relay.proxy.credentialsSecret) not found in namespace " + namespace));
        }
        String proxyAddress = proxy.getHost() + ":" + proxy.getPort();
        String allowed = secret.getMetadata().getAnnotations() == null ? null
                : secret.getMetadata().getAnnotations().get(ProxySpec.CREDENTIALS_FOR);
        if (allowed == null || java.util.Arrays.stream(allowed.split(",")).map(String::trim)
                .noneMatch(proxyAddress::equals)) {
            return new ProxyCredentialsSecret(name, null, new HandOverProblem(Reasons.PROXY_CREDENTIALS_INVALID,
                    "Secret " + name + (allowed == null ? " does not say" : " does not list " + proxyAddress + " among")
                            + " the proxies its credentials may be sent to: its owner annotates it (kubectl annotate "
                            + "secret " + name + " " + ProxySpec.CREDENTIALS_FOR + "=" + proxyAddress + ")"));
        }
        if (secret.getData() == null || !secret.getData().containsKey(PoolConfig.USERNAME)
                || !secret.getData().containsKey(PoolConfig.PASSWORD)) {
            return new ProxyCredentialsSecret(name, null, new HandOverProblem(Reasons.PROXY_CREDENTIALS_INVALID,
                    "Secret " + name + " needs the data keys " + PoolConfig.USERNAME + " and " + PoolConfig.PASSWORD
                            + " (a kubernetes.io/basic-auth Secret)"));
        }
        return new ProxyCredentialsSecret(name, secret.getMetadata().getUid() + ":"
                + secret.getMetadata().getResourceVersion(), null);
    }
}
