package dev.jumpgate.operator.dependent;

import dev.jumpgate.api.v1alpha1.ForwardSpec;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.api.v1alpha1.SpecValidation;
import dev.jumpgate.operator.AgentPodConfig;
import dev.jumpgate.operator.InformerCaches;
import dev.jumpgate.operator.Labels;
import dev.jumpgate.operator.Names;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import jakarta.inject.Inject;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Defence in depth around the agent pod, where the cluster enforces NetworkPolicy: in, only its HTTP port (probes,
 * metrics); out, only DNS, the Kubernetes API (its tunnel and Lease), its relay and its forwards' targets. A relay
 * or target given as an IP address is allowed as that address alone; one given as a name, on its port to any
 * address (a NetworkPolicy cannot name hosts). The API server is allowed on 443 and 6443 to any address: which
 * address a Service IP lands on after DNAT is the CNI's to know, not the operator's.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR, itemStore = InformerCaches.WithoutManagedFields.class))
public class AgentNetworkPolicyDependent extends KeptDependent<NetworkPolicy> {

    private static final Pattern IPV4 = Pattern.compile("^\\d{1,3}(\\.\\d{1,3}){3}$");

    @Inject
    AgentPodConfig config;

    public AgentNetworkPolicyDependent() {
        super(NetworkPolicy.class);
    }

    @Override
    protected NetworkPolicy desired(ReverseTunnel tunnel, Context<ReverseTunnel> context) {
        List<NetworkPolicyEgressRule> egress = new ArrayList<>();
        egress.add(new NetworkPolicyEgressRuleBuilder()
                .withPorts(port("UDP", 53), port("TCP", 53)).build());
        egress.add(new NetworkPolicyEgressRuleBuilder()
                .withPorts(port("TCP", 443), port("TCP", 6443)).build());
        egress.add(to(tunnel.getSpec().getRelay().getHost(), tunnel.getSpec().getRelay().getPort()));
        for (ForwardSpec forward : tunnel.getSpec().getForwards()) {
            egress.add(to(forward.getTarget().getHost(), forward.getTarget().getPort()));
        }
        return new NetworkPolicyBuilder()
                .withMetadata(Labels.metadata(tunnel, Names.agent(tunnel)))
                .withNewSpec()
                .withNewPodSelector().withMatchLabels(Labels.selector(tunnel)).endPodSelector()
                .withPolicyTypes("Ingress", "Egress")
                .addNewIngress().withPorts(port("TCP", AgentDeploymentDependent.HTTP_PORT)).endIngress()
                .withEgress(egress)
                .endSpec()
                .build();
    }

    private static NetworkPolicyEgressRule to(String host, int port) {
        NetworkPolicyEgressRuleBuilder rule = new NetworkPolicyEgressRuleBuilder().withPorts(port("TCP", port));
        String cidr = cidr(host);
        if (cidr != null) {
            rule.withTo(new NetworkPolicyPeerBuilder().withNewIpBlock().withCidr(cidr).endIpBlock().build());
        }
        return rule.build();
    }

    /** The address as a one-address CIDR when the host is an IP literal; null for a name. */
    static String cidr(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (!IPV4.matcher(bare).matches() && !bare.contains(":")) {
            return null;
        }
        try {
            InetAddress address = InetAddress.getByName(bare); // a literal: no lookup
            return address.getHostAddress() + (address.getAddress().length == 4 ? "/32" : "/128");
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    private static io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort port(String protocol, int port) {
        return new NetworkPolicyPortBuilder().withProtocol(protocol).withPort(new IntOrString(port)).build();
    }

    /** When the install asks for it (the chart's agent.networkPolicy.enabled, on by default) and the spec is usable. */
    public static class Enabled implements Condition<NetworkPolicy, ReverseTunnel> {
        @Override
        public boolean isMet(DependentResource<NetworkPolicy, ReverseTunnel> dependent, ReverseTunnel tunnel,
                Context<ReverseTunnel> context) {
            return ((AgentNetworkPolicyDependent) dependent).config.networkPolicy()
                    && SpecValidation.problems(tunnel.getSpec()).isEmpty();
        }
    }
}
