package dev.jumpgate.api.v1alpha1;

import dev.jumpgate.ssh.PublicKeyLine;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules of the CRD's schema, and the few it cannot express, checked in Java: the operator reports what an API
 * server let through (an old one, or a schema-less client) as SpecInvalid, and the standalone agent, which has no
 * API server, refuses a bad file with the same words.
 */
public final class SpecValidation {

    private static final Pattern FORWARD_NAME = Pattern.compile(ForwardSpec.NAME_PATTERN);

    private SpecValidation() {
    }

    /** Every problem of the spec, each naming its field; empty when the spec is valid. */
    public static List<String> problems(ReverseTunnelSpec spec) {
        List<String> problems = new ArrayList<>();
        if (spec == null) {
            problems.add("spec: required");
            return problems;
        }
        RelaySpec relay = spec.getRelay();
        if (relay == null) {
            problems.add("spec.relay: required");
        } else {
            if (blank(relay.getHost())) {
                problems.add("spec.relay.host: required");
            }
            if (blank(relay.getUser())) {
                problems.add("spec.relay.user: required");
            }
            port(problems, "spec.relay.port", relay.getPort(), 1);
            List<String> keys = relay.getHostKeys() == null ? List.of() : relay.getHostKeys();
            for (int i = 0; i < keys.size(); i++) {
                try {
                    PublicKeyLine.parse(keys.get(i));
                } catch (IllegalArgumentException e) {
                    problems.add("spec.relay.hostKeys[" + i + "]: " + e.getMessage());
                }
            }
            if (keys.isEmpty() && relay.getHostKeyPolicy() != HostKeyPolicy.AcceptNew) {
                problems.add("spec.relay.hostKeys: pin at least one relay host key (ssh-keyscan prints them), "
                        + "or set hostKeyPolicy: AcceptNew to trust the first one seen");
            }
        }
        if (spec.getAuth() != null && (spec.getAuth().getSecretRef() == null || blank(spec.getAuth().getSecretRef().getName()))) {
            problems.add("spec.auth.secretRef.name: required");
        }
        forwards(problems, spec.getForwards());
        if (spec.getKeepalive() != null) {
            atLeastOne(problems, "spec.keepalive.intervalSeconds", spec.getKeepalive().getIntervalSeconds());
            atLeastOne(problems, "spec.keepalive.countMax", spec.getKeepalive().getCountMax());
        }
        ReconnectSpec reconnect = spec.getReconnect();
        if (reconnect != null) {
            atLeastOne(problems, "spec.reconnect.minBackoffSeconds", reconnect.getMinBackoffSeconds());
            atLeastOne(problems, "spec.reconnect.maxBackoffSeconds", reconnect.getMaxBackoffSeconds());
            if (reconnect.getMinBackoffSeconds() > reconnect.getMaxBackoffSeconds()) {
                problems.add("spec.reconnect: minBackoffSeconds must not exceed maxBackoffSeconds");
            }
        }
        CheckSpec check = spec.getCheck();
        if (check != null) {
            if (check.getIntervalSeconds() < 5 || check.getIntervalSeconds() > 3600) {
                problems.add("spec.check.intervalSeconds: must be between 5 and 3600, got " + check.getIntervalSeconds());
            }
            if (check.getTimeoutSeconds() < 1 || check.getTimeoutSeconds() > 60) {
                problems.add("spec.check.timeoutSeconds: must be between 1 and 60, got " + check.getTimeoutSeconds());
            }
        }
        return problems;
    }

    private static void forwards(List<String> problems, List<ForwardSpec> forwards) {
        if (forwards == null || forwards.isEmpty()) {
            problems.add("spec.forwards: at least one forward is required");
            return;
        }
        Set<String> names = new HashSet<>();
        Set<String> listens = new HashSet<>();
        for (int i = 0; i < forwards.size(); i++) {
            ForwardSpec f = forwards.get(i);
            String at = "spec.forwards[" + i + "]";
            if (f.getName() == null || !FORWARD_NAME.matcher(f.getName()).matches() || f.getName().length() > 63) {
                problems.add(at + ".name: must be a DNS label (lower case letters, digits and '-'), got " + f.getName());
            } else if (!names.add(f.getName())) {
                problems.add(at + ".name: " + f.getName() + " is used by another forward");
            }
            if (f.getRemote() == null) {
                problems.add(at + ".remote: required");
            } else {
                port(problems, at + ".remote.port", f.getRemote().getPort(), 0);
                if (blank(f.getRemote().getBindAddress())) {
                    problems.add(at + ".remote.bindAddress: required");
                }
                if (f.getRemote().getPort() != 0 && !listens.add(f.getRemote().toString())) {
                    problems.add(at + ".remote: " + f.getRemote() + " is used by another forward");
                }
            }
            if (f.getTarget() == null || blank(f.getTarget().getHost())) {
                problems.add(at + ".target.host: required");
            } else {
                port(problems, at + ".target.port", f.getTarget().getPort(), 1);
            }
        }
    }

    private static void port(List<String> problems, String field, int port, int min) {
        if (port < min || port > 65535) {
            problems.add(field + ": must be between " + min + " and 65535, got " + port);
        }
    }

    private static void atLeastOne(List<String> problems, String field, int value) {
        if (value < 1) {
            problems.add(field + ": must be at least 1, got " + value);
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
