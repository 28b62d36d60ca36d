package dev.jumpgate.contract;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Map;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The API server's address, the TLS context that trusts it, and the headers that say who we are: what a process needs
 * to talk to the API server on the JDK's HTTP client. The agent's every request goes this way (KubernetesApi); the
 * operator's one request that must not depend on its Kubernetes client, handing its Lease over while that client
 * shuts down (OperatorLeadership), too.
 */
public record ApiServerAccess(URI server, SSLContext tls, Supplier<Map<String, String>> headers) {

    /** Where a pod finds its API server's CA and its service account's token (mounted by the kubelet). */
    public static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

    /**
     * Inside a pod: the address from the service links the kubelet sets, the CA and the token from the mounted
     * service account. The token is read again for every request: the kubelet rotates it in place.
     */
    public static ApiServerAccess inCluster() {
        String host = System.getenv("KUBERNETES_SERVICE_HOST");
        String port = System.getenv("KUBERNETES_SERVICE_PORT");
        if (host == null || host.isBlank()) {
            throw new IllegalStateException("KUBERNETES_SERVICE_HOST is not set: not inside a Kubernetes pod");
        }
        URI server = URI.create("https://" + (host.contains(":") ? "[" + host + "]" : host) + ":"
                + (port == null || port.isBlank() ? "443" : port));
        Path token = SERVICE_ACCOUNT.resolve("token");
        try {
            SSLContext tls = trusting(Files.readAllBytes(SERVICE_ACCOUNT.resolve("ca.crt")));
            return new ApiServerAccess(server, tls, () -> {
                try {
                    return Map.of("Authorization", "Bearer " + Files.readString(token).trim());
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read the service account token at " + token, e);
                }
            });
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the API server's CA at " + SERVICE_ACCOUNT + ": "
                    + e.getMessage(), e);
        }
    }

    /** A TLS context that trusts exactly the CA certificates in {@code pem} (the cluster's, not the JDK's). */
    public static SSLContext trusting(byte[] pem) throws GeneralSecurityException {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            trusted.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        int n = 0;
        for (Certificate ca : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem))) {
            trusted.setCertificateEntry("ca-" + n++, ca);
        }
        if (n == 0) {
            throw new GeneralSecurityException("no certificate in the CA file");
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, trust.getTrustManagers(), null);
        return tls;
    }
}
