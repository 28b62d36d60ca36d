package dev.jumpgate.operator;

import dev.jumpgate.api.v1alpha1.CertificateStatus;
import dev.jumpgate.api.v1alpha1.Reasons;
import dev.jumpgate.api.v1alpha1.ReverseTunnel;
import dev.jumpgate.operator.status.TunnelObservation.HandOverProblem;
import dev.jumpgate.ssh.PublicKeyLine;
import dev.jumpgate.ssh.SshCertificate;
import dev.jumpgate.ssh.UserCertificateAuthority;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The operator as a user CA. With a CA key (the chart's {@code userCA.secretName}: a Secret in the operator's
 * namespace, mounted into its pod only), every tunnel whose key the operator generates gets an OpenSSH user
 * certificate for its principal (jumpgate:NAMESPACE/NAME), valid for {@code jumpgate.user-ca.validity}, written into
 * the key's Secret beside the key and issued anew at half its validity, or at once when the CA changes or the
 * certificate there is not one this CA signed. A relay that trusts the CA (TrustedUserCAKeys) and lists the principal
 * with its restrictions (status.authorizedPrincipal) needs no key line; a stolen key and certificate stop working when
 * the certificate ends. The agent offers the certificate first, then the bare key, so relays that trust the key line
 * go on as before, and a renewal never drops the session it holds (the key is the same).
 */
@ApplicationScoped
public class UserCertificates {

    private static final Logger LOG = Logger.getLogger(UserCertificates.class);
    public static final String ISSUER_OPERATOR = "Operator";
    public static final String ISSUER_SECRET = "Secret";
    /** Certificates start this long before they are issued: a relay whose clock is behind still takes them. */
    static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    /** Each renewal is a write of the key Secret and of the agent's list: at a minute, one every 30 s a tunnel. */
    static final Duration MIN_VALIDITY = Duration.ofMinutes(1);
    /** The soonest a reconcile comes back for a renewal: whatever a certificate says, no faster loop than this. */
    static final Duration SOONEST_RECHECK = Duration.ofSeconds(10);

    @ConfigProperty(name = "jumpgate.user-ca.file")
    Optional<Path> file;

    /** The CA key's Secret (in the operator's namespace): never a tunnel's key, whoever names it. */
    @ConfigProperty(name = "jumpgate.user-ca.secret")
    Optional<String> secret;

    @ConfigProperty(name = "jumpgate.operator-namespace")
    Optional<String> operatorNamespace;

    @ConfigProperty(name = "jumpgate.user-ca.validity", defaultValue = "12h")
    Duration validity;

    /**
     * The file is read again at most this often: it is looked at in every reconcile of a generated key's tunnel, and
     * the kubelet takes about a minute to bring a changed Secret into the pod anyway.
     */
    static final Duration REREAD = Duration.ofSeconds(10);

    /**
     * The CA as last read, with a digest of the file it came from (not the text: no copy of the key kept) and when it
     * was read (System.nanoTime).
     */
    private volatile Loaded loaded;

    private record Loaded(byte[] digest, UserCertificateAuthority authority, String problem, long readAt) {
    }

    private Duration validity() {
        return validity.compareTo(MIN_VALIDITY) < 0 ? MIN_VALIDITY : validity;
    }

    /**
     * The CA as its file holds it now; empty without one, or when the file is not a usable key (logged once for
     * each content of the file, not at every reconcile).
     */
    Optional<UserCertificateAuthority> authority() {
        if (file.isEmpty()) {
            return Optional.empty();
        }
        Loaded recent = loaded;
        if (recent != null && System.nanoTime() - recent.readAt() < REREAD.toNanos()) {
            return Optional.ofNullable(recent.authority());
        }
        byte[] text;
        String problem = null;
        try {
            text = Files.readAllBytes(file.get());
        } catch (IOException e) {
            text = new byte[0];
            problem = "cannot be read (" + e.getClass().getSimpleName() + ")";
        }
        byte[] digest = sha256(text);
        Loaded last = loaded;
        if (last != null && Arrays.equals(last.digest(), digest)) {
            loaded = new Loaded(digest, last.authority(), last.problem(), System.nanoTime());
            return Optional.ofNullable(last.authority());
        }
        UserCertificateAuthority authority = null;
        if (problem == null) {
            try {
                authority = UserCertificateAuthority.fromOpenSshPrivateKey(new String(text, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                problem = "is not usable: " + e.getMessage() + " (expected what ssh-keygen -t ed25519 -N '' writes)";
            }
        }
        Arrays.fill(text, (byte) 0);
        if (authority != null) {
            LOG.infof("issuing user certificates valid for %s from the CA %s", validity(),
                    authority.publicKey().fingerprint());
        } else {
            LOG.errorf("no user certificates: the CA key %s %s", file.get(), problem);
        }
        loaded = new Loaded(digest, authority, problem, System.nanoTime());
        return Optional.ofNullable(authority);
    }

    /**
     * The key, refused when it is the CA's own Secret: a tunnel in the operator's namespace could otherwise name it
     * as its key, and its agent would be given the CA key to log in with.
     */
    AgentKey refuseAuthorityKey(ReverseTunnel tunnel, AgentKey key) {
        boolean named = secret.isPresent() && secret.get().equals(key.secretName()) && !AgentKey.generated(tunnel)
                && Objects.equals(operatorNamespace.orElse(null), tunnel.getMetadata().getNamespace());
        return named ? key.refused(new HandOverProblem(Reasons.KEY_INVALID, "Secret " + key.secretName()
                + " holds the operator's user CA key, which no tunnel may use")) : key;
    }

    /**
     * The tunnel's key with a certificate of the operator's CA that is good until its renewal time: the one its
     * Secret holds, or one issued now and written into it. The key unchanged for a key of the user's, while the key
     * is not there yet, or when the CA cannot be used; without a CA configured, without the certificate a generated
     * key's Secret may still hold (nobody renews it).
     */
    AgentKey certify(ReverseTunnel tunnel, AgentKey key, Context<ReverseTunnel> context, Instant now) {
        if (!AgentKey.generated(tunnel) || !key.available()) {
            return key;
        }
        if (file.isEmpty()) {
            return key.certificate() == null ? key : key.withoutCertificate();
        }
        Optional<UserCertificateAuthority> authority = authority();
        if (authority.isEmpty() || current(key.certificate(), authority.get(), tunnel.keyComment(), now)) {
            return key;
        }
        String namespace = tunnel.getMetadata().getNamespace();
        try {
            // The key to certify from the private key itself, not from the Secret's public half, which whoever may
            // write the Secret could set to a key of theirs. Read uncached: the cache keeps no private key.
            Secret stored = context.getClient().secrets().inNamespace(namespace).withName(key.secretName()).get();
            String privateKey = stored == null ? null : AgentKey.data(stored, AgentKey.PRIVATE_KEY);
            if (privateKey == null) {
                return key;
            }
            PublicKeyLine certified = PublicKeyLine.fromOpenSshPrivateKey(privateKey);
            String line = authority.get().sign(certified, tunnel.keyComment(), List.of(tunnel.keyComment()),
                    now.minus(CLOCK_SKEW), now.plus(validity()), tunnel.keyComment());
            String patch = Serialization.asJson(Map.of("data", Map.of(AgentKey.CERTIFICATE,
                    Base64.getEncoder().encodeToString(line.getBytes(StandardCharsets.US_ASCII)))));
            Secret written = context.getClient().secrets().inNamespace(namespace).withName(key.secretName())
                    .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
            return AgentKey.inspect(key.secretName(), key.dataKey(), AgentKey.CERTIFICATE, written, true);
        } catch (IllegalArgumentException | KubernetesClientException e) {
            // Not this tunnel's to fail over: it goes on with the key (and the certificate it has), and the
            // reconcile comes back (SOONEST_RECHECK at the earliest).
            LOG.warnf("tunnel %s/%s: no new certificate: %s", namespace, tunnel.getMetadata().getName(),
                    e.getMessage());
            return key;
        }
    }

    /**
     * Whether the certificate is one this CA signed (its signature checked, not only its word), a user certificate for
     * this principal alone, no longer valid than this operator issues them, and not yet due for renewal.
     */
    private boolean current(SshCertificate certificate, UserCertificateAuthority authority, String principal,
            Instant now) {
        return certificate != null && certificate.userCertificate() && authority.signed(certificate)
                && certificate.principals().equals(List.of(principal))
                && !certificate.validBefore().isAfter(now.plus(validity()))
                && !certificate.validAfter().isAfter(now) && now.isBefore(renewAt(certificate));
    }

    /** Half way from when the operator issued it (its start, less the leeway it was given) to its end. */
    static Instant renewAt(SshCertificate certificate) {
        if (certificate.validBefore().equals(Instant.MAX) || certificate.validAfter().equals(Instant.MAX)) {
            return Instant.MIN; // not one of ours: due now
        }
        Instant issued = certificate.validAfter().plus(CLOCK_SKEW);
        return issued.plus(Duration.between(issued, certificate.validBefore()).dividedBy(2));
    }

    /**
     * How long until the operator must look at the key's certificate again: null when it need not (no CA, not a
     * generated key, no certificate), never sooner than {@link #SOONEST_RECHECK}.
     */
    Duration untilRenewal(ReverseTunnel tunnel, AgentKey key, Instant now) {
        if (!AgentKey.generated(tunnel) || key.certificate() == null || authority().isEmpty()) {
            return null;
        }
        Duration left = Duration.between(now, renewAt(key.certificate()));
        return left.compareTo(SOONEST_RECHECK) < 0 ? SOONEST_RECHECK : left;
    }

    /** What the status says of the key's certificate; null when it has none. */
    CertificateStatus status(ReverseTunnel tunnel, AgentKey key) {
        SshCertificate certificate = key.certificate();
        if (certificate == null) {
            return null;
        }
        boolean ours = AgentKey.generated(tunnel);
        CertificateStatus status = new CertificateStatus();
        status.setIssuer(ours ? ISSUER_OPERATOR : ISSUER_SECRET);
        status.setKeyId(certificate.keyId());
        status.setSerial(Long.toUnsignedString(certificate.serial()));
        status.setPrincipals(certificate.principals());
        status.setValidAfter(certificate.validAfter().equals(Instant.MAX) ? null : certificate.validAfter().toString());
        status.setValidBefore(certificate.validBefore().equals(Instant.MAX) ? null : certificate.validBefore().toString());
        Instant renewAt = renewAt(certificate);
        status.setRenewAfter(ours && renewAt.isAfter(Instant.MIN) ? renewAt.toString() : null);
        status.setAuthority(certificate.signedBy().fingerprint());
        return status;
    }

    private static byte[] sha256(byte[] text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}
