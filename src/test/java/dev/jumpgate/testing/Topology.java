package dev.jumpgate.testing;

import dev.jumpgate.testing.HostCommand.Result;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The classic recipe's hosts in network namespaces, driven through hack/topology.sh (hack/e2e.sh sets them up). */
public final class Topology {

    public static final String LAB_IP = "10.8.92.10";
    public static final String RELAY_IP = "203.0.113.10";
    /** A second relay's sshd on the relay's host: a tunnel's fallback relay. */
    public static final int RELAY_B_PORT = 2222;
    /** relay-ca: no authorized_keys; the user CA (the operator's in the cluster tier) and a host certificate. */
    public static final int RELAY_CA_PORT = 2223;
    /** The relay as the laptop sees it. */
    public static final String RELAY_FROM_LAPTOP = "192.0.2.10";
    /** A company's way out: a jump host (sshd on 22) and an HTTP CONNECT proxy (3128, Basic auth). */
    public static final String BASTION_IP = "198.51.100.10";
    public static final int PROXY_PORT = 3128;
    public static final String PROXY_USER = "jumpgate";

    private Topology() {
    }

    public static Result run(String... args) {
        return HostCommand.TOPOLOGY.run(Duration.ofSeconds(60), args);
    }

    /** Starts ssh on the laptop with these arguments; the caller reads and waits for it. */
    public static Process startFromLaptop(String... sshArgs) {
        List<String> args = new ArrayList<>(List.of("ssh-from-laptop"));
        args.addAll(List.of(sshArgs));
        return HostCommand.TOPOLOGY.start(args.toArray(String[]::new));
    }

    /** ssh -p PORT root@relay COMMAND, from the laptop: lands on the lab machine when the tunnel works. */
    public static Result sshFromLaptop(int port, String command) {
        return run("ssh-from-laptop", "-p", Integer.toString(port), "root@" + RELAY_FROM_LAPTOP, command);
    }

    public static String relayHostKey() {
        return run("relay-hostkey").output().trim();
    }

    public static void authorizeOnRelay(String authorizedKeyLines) {
        run("relay-authorize", authorizedKeyLines).orThrow();
    }

    public static String relayBHostKey() {
        return run("relay-b-hostkey").orThrow().trim();
    }

    public static void authorizeOnRelayB(String authorizedKeyLines) {
        run("relay-b-authorize", authorizedKeyLines).orThrow();
    }

    /** The host CA's public key: relay-ca's host certificate is its. */
    public static String hostCa() {
        return run("host-ca").orThrow().trim();
    }

    /** What relay-ca's owner does with a tunnel's status.authorizedPrincipal: the principals file. */
    public static void principalsOnRelayCa(String lines) {
        run("relay-ca-principals", lines).orThrow();
    }

    public static String bastionHostKey() {
        return run("bastion-hostkey").orThrow().trim();
    }

    public static void authorizeOnBastion(String authorizedKeyLines) {
        run("bastion-authorize", authorizedKeyLines).orThrow();
    }

    public static String proxyPassword() {
        return run("proxy-password").orThrow().trim();
    }

    /** What the bastion's proxy logged: a line for each CONNECT it was asked for. */
    public static String proxyLog() {
        return run("proxy-log").output();
    }

    /** Stops or starts the lab machine's sshd, the target of the example's forward. */
    public static void labSshd(boolean running) {
        run(running ? "lab-start" : "lab-stop").orThrow();
    }

    /** Adds or removes a firewall rule on the relay that drops every connection to this port. */
    public static void relayFirewallDrops(int port, boolean drop) {
        run("relay-firewall", drop ? "drop" : "accept", Integer.toString(port)).orThrow();
    }

    /** Sets the relay's GatewayPorts ("no", "clientspecified") and restarts its sshd, sessions included. */
    public static void relayGatewayPorts(String value) {
        run("relay-gatewayports", value).orThrow();
    }

    /** Whether the laptop can open a TCP connection to this port of the relay. */
    public static boolean relayListensForLaptop(int port) {
        return run("laptop-reaches", RELAY_FROM_LAPTOP, Integer.toString(port)).exitCode() == 0;
    }
}
