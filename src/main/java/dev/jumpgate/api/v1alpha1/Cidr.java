package dev.jumpgate.api.v1alpha1;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * A network as spec.forwards[].socks.networks writes it ("10.8.92.0/24", "fd00::/64"): what a reverse SOCKS forward
 * may connect to. Parsed without a lookup; an address matches when its first {@code prefix} bits are the network's.
 */
public record Cidr(byte[] network, int prefix) {

    /** The schema's pattern; {@link #parse} checks the rest (octets, prefix length), as the API server's isCIDR does. */
    public static final String PATTERN = "^[0-9A-Fa-f.:]+/[0-9]{1,3}$";

    public static Cidr parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not a network (address/prefix): " + text);
        }
        String address = text.substring(0, slash);
        // Only what is a literal gets to InetAddress, which would look anything else up in DNS: dotted quads, or
        // IPv6 (a colon makes it one). An IPv4-mapped network (::ffff:a.b.c.d/n) is refused: Java would fold it into
        // IPv4 while the API server and NetworkPolicy read it as IPv6.
        boolean ipv4 = address.matches("(\\d{1,3}\\.){3}\\d{1,3}");
        if (!ipv4 && !(address.contains(":") && address.matches("[0-9A-Fa-f:.]+"))) {
            throw new IllegalArgumentException("not an IP address: " + address);
        }
        if (!ipv4 && address.toLowerCase(java.util.Locale.ROOT).contains("ffff:") && address.contains(".")) {
            throw new IllegalArgumentException("an IPv4-mapped network: write it as IPv4, " + address);
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(address).getAddress(); // a literal, checked above: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + address);
        }
        if (!ipv4 && bytes.length == 4) {
            throw new IllegalArgumentException("an IPv4-mapped network: write it as IPv4, " + address);
        }
        int prefix;
        try {
            prefix = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a prefix length: " + text.substring(slash + 1));
        }
        if (prefix < 0 || prefix > bytes.length * 8) {
            throw new IllegalArgumentException("a prefix length between 0 and " + bytes.length * 8 + ", got " + prefix);
        }
        return new Cidr(bytes, prefix);
    }

    /** Whether the address is in this network (an IPv4 address is never in an IPv6 network, nor the other way). */
    public boolean contains(InetAddress address) {
        byte[] other = address.getAddress();
        if (other.length != network.length) {
            return false;
        }
        for (int bit = 0; bit < prefix; bit++) {
            int mask = 0x80 >> (bit % 8);
            if ((other[bit / 8] & mask) != (network[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && prefix == c.prefix && Arrays.equals(network, c.network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + prefix;
    }
}
