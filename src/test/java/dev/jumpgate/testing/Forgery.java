package dev.jumpgate.testing;

import dev.jumpgate.ssh.Ed25519KeyPair;
import java.util.Arrays;
import java.util.Base64;

/** What an attacker writes: certificates that claim a signer who never signed them. */
public final class Forgery {

    private Forgery() {
    }

    /** The certificate line with its signer's key swapped for {@code claimed}'s; the signature stays the signer's. */
    public static String claimingToBeBy(String certificate, Ed25519KeyPair signer, Ed25519KeyPair claimed) {
        String[] parts = certificate.split(" ");
        byte[] blob = Base64.getDecoder().decode(parts[1]);
        byte[] from = signer.publicKey().blob();
        byte[] to = claimed.publicKey().blob();
        for (int i = 0; i + from.length <= blob.length; i++) {
            if (Arrays.equals(blob, i, i + from.length, from, 0, from.length)) {
                System.arraycopy(to, 0, blob, i, to.length);
            }
        }
        return parts[0] + " " + Base64.getEncoder().encodeToString(blob);
    }
}
