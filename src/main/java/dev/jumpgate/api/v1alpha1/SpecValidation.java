package dev.jumpgate.api.v1alpha1;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.jumpgate.ssh.PublicKeyLine;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.AnnotatedParameterizedType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CRD's schema checked in Java, for what no API server checked: the operator reports what an API server let
 * through (an old one, or a schema-less client) as SpecInvalid, and the standalone agent, which has no API server,
 * refuses a bad file with the same words. One source with the schema: the field rules are read from the very
 * annotations ({@code @Required}, {@code @Size}, {@code @Pattern}, {@code @Min}, {@code @Max}) the CRD is generated
 * from; the schema's CEL rules ({@code @ValidationRule}) and what only Java can check (a host key's bytes) are written
 * out below. {@code SpecValidationTest} feeds it every tunnel the API server tier's corpus has rejected.
 */
public final class SpecValidation {

    /** Patterns in words, for the user who wrote the field; other patterns are shown as they are. */
    private static final Map<String, String> PATTERN_WORDS = Map.of(
            ForwardSpec.NAME_PATTERN, "must be a DNS label (lower case letters, digits and '-')");
    private static final int MAX_SHOWN = 64;
    /** The schema's patterns, compiled once: the operator validates every tunnel at every reconcile. */
    private static final Map<String, java.util.regex.Pattern> COMPILED = new ConcurrentHashMap<>();

    private SpecValidation() {
    }

    /** One problem: the field's path ("spec.forwards[1].name") and what is wrong with it. */
    private record Problem(String field, String text) {
        @Override
        public String toString() {
            return field + ": " + text;
        }
    }

    /**
     * Reads a ReverseTunnel from YAML typed as the API server's schema types it: a string where a number belongs, a
     * fraction for an integer or one value for a list is refused, not coerced (Jackson would read port "22" as 22
     * and 22.5 as 22). What the standalone agent reads its file with. Throws IllegalArgumentException naming the field.
     */
    public static ReverseTunnel read(String yaml) {
        try {
            return STRICT.readValue(yaml, ReverseTunnel.class);
        } catch (JsonMappingException e) {
            // Named as the API server names fields: spec.relay.port, spec.forwards[0].name.
            StringBuilder field = new StringBuilder();
            for (JsonMappingException.Reference step : e.getPath()) {
                field.append(step.getFieldName() != null ? (field.isEmpty() ? "" : ".") + step.getFieldName()
                        : "[" + step.getIndex() + "]");
            }
            throw new IllegalArgumentException((field.isEmpty() ? "" : field + ": ") + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e.getOriginalMessage(), e);
        }
    }

    private static final ObjectMapper STRICT = strictMapper();

    private static ObjectMapper strictMapper() {
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory())
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES) // the API server drops them too
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS) // hostKeyPolicy: 1 is not AcceptNew
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION); // a second hostKeyPolicy: must not win quietly
        // A scalar of another kind than the field's is refused: Jackson's default converts it.
        Map<LogicalType, List<CoercionInputShape>> refused = Map.of(
                LogicalType.Integer, List.of(CoercionInputShape.String, CoercionInputShape.Float, CoercionInputShape.Boolean,
                        CoercionInputShape.EmptyString),
                LogicalType.Float, List.of(CoercionInputShape.String, CoercionInputShape.Boolean),
                LogicalType.Boolean, List.of(CoercionInputShape.String, CoercionInputShape.Integer, CoercionInputShape.Float),
                LogicalType.Textual, List.of(CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean));
        refused.forEach((type, shapes) -> shapes.forEach(
                shape -> mapper.coercionConfigFor(type).setCoercion(shape, CoercionAction.Fail)));
        return mapper;
    }

    /** Every problem of the spec, each naming its field, in the order of the fields; empty when the spec is valid. */
    public static List<String> problems(ReverseTunnelSpec spec) {
        if (spec == null) {
            return List.of("spec: required");
        }
        List<Problem> problems = new ArrayList<>();
        schema(spec, "spec", problems);
        beyondTheFieldRules(spec, problems);
        return problems.stream().sorted(Comparator.comparing(p -> fieldOrder(p.field()), Arrays::compare))
                .map(Problem::toString).toList();
    }

    // ------------------------------------------------------------------------------------- the schema's field rules

    private static void schema(Object object, String path, List<Problem> problems) {
        for (Field field : fields(object.getClass())) {
            String at = path + "." + field.getName();
            Object value = read(field, object);
            boolean required = field.isAnnotationPresent(Required.class);
            if (value == null || required && value instanceof String s && s.isBlank()) {
                if (required) {
                    problems.add(new Problem(at, "required"));
                }
                continue;
            }
            String broken = brokenRule(field, value, field.getName());
            if (broken != null) {
                problems.add(new Problem(at, broken));
            } else if (value instanceof List<?> list) {
                AnnotatedElement element = field.getAnnotatedType() instanceof AnnotatedParameterizedType p
                        ? p.getAnnotatedActualTypeArguments()[0] : null;
                for (int i = 0; i < list.size(); i++) {
                    Object item = list.get(i);
                    if (item == null) {
                        problems.add(new Problem(at + "[" + i + "]", "must not be null"));
                        continue;
                    }
                    String itemBroken = element == null ? null : brokenRule(element, item, null);
                    if (itemBroken != null) {
                        problems.add(new Problem(at + "[" + i + "]", itemBroken));
                    } else if (ours(item)) {
                        schema(item, at + "[" + i + "]", problems);
                    }
                }
            } else if (ours(value)) {
                schema(value, at, problems);
            }
        }
    }

    /** The first of the element's rules the value breaks, in words; null when it keeps them all. */
    private static String brokenRule(AnnotatedElement element, Object value, String name) {
        Size size = element.getAnnotation(Size.class);
        if (size != null) {
            // Characters as the API server counts them (code points), not UTF-16 units.
            long length = value instanceof String s ? s.codePointCount(0, s.length()) : value instanceof List<?> l ? l.size() : -1;
            String unit = value instanceof String ? "characters" : "items";
            if (length >= 0 && length < size.min()) {
                return size.min() == 1 && value instanceof List<?> && name != null
                        ? "at least one " + name.replaceAll("s$", "") + " is required"
                        : "must have at least " + size.min() + " " + unit;
            }
            if (length > size.max()) {
                return "must have at most " + size.max() + " " + unit + ", got " + length;
            }
        }
        Pattern pattern = element.getAnnotation(Pattern.class);
        if (pattern != null && value instanceof String s && !COMPILED.computeIfAbsent(pattern.value(),
                java.util.regex.Pattern::compile).matcher(s).matches()) {
            return PATTERN_WORDS.getOrDefault(pattern.value(), "must match " + pattern.value()) + ", got " + shown(s);
        }
        Min min = element.getAnnotation(Min.class);
        Max max = element.getAnnotation(Max.class);
        if (value instanceof Number n && (min != null && n.doubleValue() < min.value() || max != null && n.doubleValue() > max.value())) {
            String shown = number(n.doubleValue());
            if (min != null && max != null) {
                return "must be between " + number(min.value()) + " and " + number(max.value()) + ", got " + shown;
            }
            return (min != null ? "must be at least " + number(min.value()) : "must be at most " + number(max.value()))
                    + ", got " + shown;
        }
        return null;
    }

    // ---------------------------------------------------------------- the schema's CEL rules, and what only Java sees

    private static void beyondTheFieldRules(ReverseTunnelSpec spec, List<Problem> problems) {
        RelaySpec relay = spec.getRelay();
        if (relay != null) {
            List<String> keys = relay.getHostKeys() == null ? List.of() : relay.getHostKeys();
            hostKeysParse(keys, "spec.relay.hostKeys", problems);
            List<JumpHost> hops = relay.jumpHosts();
            for (int i = 0; i < hops.size(); i++) {
                if (hops.get(i) != null && hops.get(i).getHostKeys() != null) {
                    hostKeysParse(hops.get(i).getHostKeys(), "spec.relay.via[" + i + "].hostKeys", problems);
                }
            }
            hostKeysParse(relay.hostCertificateAuthorityKeys(), "spec.relay.hostCertificateAuthorities", problems);
            if (keys.isEmpty() && relay.getHostKeyPolicy() != HostKeyPolicy.AcceptNew
                    && relay.hostCertificateAuthorityKeys().isEmpty()) {
                problems.add(new Problem("spec.relay.hostKeys", "pin at least one relay host key (ssh-keyscan prints "
                        + "them), name the relay's host CA in hostCertificateAuthorities, or set hostKeyPolicy: AcceptNew "
                        + "to trust the first one seen"));
            }
        }
        List<FallbackRelay> fallbacks = spec.getFallbackRelays() == null ? List.of() : spec.getFallbackRelays();
        Set<String> relayAddresses = new HashSet<>();
        if (relay != null) {
            relayAddresses.add(relay.getHost() + ":" + relay.getPort());
        }
        for (int i = 0; i < fallbacks.size(); i++) {
            FallbackRelay fallback = fallbacks.get(i);
            if (fallback == null) {
                continue;
            }
            if (fallback.getHostKeys() != null) {
                hostKeysParse(fallback.getHostKeys(), "spec.fallbackRelays[" + i + "].hostKeys", problems);
            }
            String address = fallback.getHost() + ":" + fallback.getPort();
            if (relay != null && address.equals(relay.getHost() + ":" + relay.getPort())) {
                problems.add(new Problem("spec", "a fallback relay cannot be spec.relay itself"));
            } else if (!relayAddresses.add(address)) {
                problems.add(new Problem("spec.fallbackRelays", "each fallback relay must be another host or port"));
            }
        }
        List<ForwardSpec> forwards = spec.getForwards() == null ? List.of() : spec.getForwards();
        Set<String> names = new HashSet<>();
        Set<String> listens = new HashSet<>();
        for (int i = 0; i < forwards.size(); i++) {
            ForwardSpec f = forwards.get(i);
            String at = "spec.forwards[" + i + "]";
            if (f == null) {
                continue;
            }
            if (f.getName() != null && !names.add(f.getName())) {
                problems.add(new Problem(at + ".name", shown(f.getName()) + " is used by another forward"));
            }
            if (f.getRemote() != null && f.getRemote().getPort() != 0 && !listens.add(f.getRemote().toString())) {
                problems.add(new Problem(at + ".remote", shown(f.getRemote().toString()) + " is used by another forward"));
            }
            if ((f.getTarget() == null) == (f.getSocks() == null)) {
                problems.add(new Problem(at, "a forward has either a target or socks"));
            }
            if (f.getSocks() != null && f.getRemote() != null && !f.getRemote().onLoopback()) {
                problems.add(new Problem(at, "a SOCKS forward listens on the relay's loopback only: on any other "
                        + "address it would let anyone who reaches the relay into the networks it allows"));
            }
            if (f.getSocks() != null && f.getCheck() == ForwardCheck.SSHBanner) {
                problems.add(new Problem(at, "a SOCKS forward's check cannot expect an SSH banner: its agent answers, "
                        + "not a target"));
            }
            List<String> networks = f.getSocks() == null || f.getSocks().getNetworks() == null ? List.of()
                    : f.getSocks().getNetworks();
            for (int n = 0; n < networks.size(); n++) {
                try {
                    Cidr.parse(networks.get(n));
                } catch (IllegalArgumentException | NullPointerException e) {
                    problems.add(new Problem(at + ".socks.networks", "each network must be a CIDR (10.8.92.0/24, "
                            + "fd00::/64): " + shown(String.valueOf(networks.get(n)))));
                }
            }
        }
        ReconnectSpec reconnect = spec.getReconnect();
        if (reconnect != null && reconnect.getMinBackoffSeconds() > reconnect.getMaxBackoffSeconds()) {
            problems.add(new Problem("spec.reconnect", "minBackoffSeconds must not exceed maxBackoffSeconds"));
        }
        AgentPlacement agent = spec.getAgent();
        if (agent != null && agent.getPool() != null && agent.dedicated()) {
            problems.add(new Problem("spec.agent", "a dedicated agent belongs to no pool: set pool or dedicated, not both"));
        }
    }

    // ----------------------------------------------------------------------------------------------------- helpers

    /** The parser names a host key's fault (type, base64, length) where the schema's pattern only says no. */
    private static void hostKeysParse(List<String> keys, String field, List<Problem> problems) {
        for (int i = 0; i < keys.size(); i++) {
            String at = field + "[" + i + "]";
            try {
                PublicKeyLine.parse(keys.get(i));
            } catch (IllegalArgumentException | NullPointerException e) {
                problems.removeIf(p -> p.field().equals(at));
                problems.add(new Problem(at, e.getMessage() == null ? "not a public key" : shown(e.getMessage(), 200)));
            }
        }
    }

    private static List<Field> fields(Class<?> type) {
        return Arrays.stream(type.getDeclaredFields()).filter(f -> !Modifier.isStatic(f.getModifiers())).toList();
    }

    private static Object read(Field field, Object object) {
        try {
            field.setAccessible(true);
            return field.get(object);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + field, e);
        }
    }

    /** A type of this API (a spec part to look into), not a string, number, list or enum. */
    private static boolean ours(Object value) {
        return value != null && value.getClass().getPackage() == SpecValidation.class.getPackage() && !value.getClass().isEnum();
    }

    private static String number(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }

    /** A user's value in a message: printable (no control, format or line-separating characters), and short. */
    private static String shown(String value) {
        return shown(value, MAX_SHOWN);
    }

    private static String shown(String value, int maxCodePoints) {
        int[] printable = value.codePoints().limit(maxCodePoints + 1L)
                .map(c -> Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
                        || Character.getType(c) == Character.LINE_SEPARATOR
                        || Character.getType(c) == Character.PARAGRAPH_SEPARATOR ? '?' : c)
                .toArray();
        return printable.length > maxCodePoints ? new String(printable, 0, maxCodePoints) + "..."
                : new String(printable, 0, printable.length);
    }

    /**
     * Where a field comes in the spec's types, as the positions of each step ("spec.relay.hostKeys[0]": relay is
     * the spec's first field, hostKeys the relay's fourth, then item 0): problems are listed in the order of the
     * fields, not of the rules that found them.
     */
    private static int[] fieldOrder(String path) {
        List<Integer> order = new ArrayList<>();
        Class<?> type = ReverseTunnelSpec.class;
        String[] steps = path.split("\\.");
        for (int s = 1; s < steps.length && type != null; s++) {
            String step = steps[s];
            int bracket = step.indexOf('[');
            String name = bracket < 0 ? step : step.substring(0, bracket);
            List<Field> fields = fields(type);
            Field field = fields.stream().filter(f -> f.getName().equals(name)).findFirst().orElse(null);
            order.add(field == null ? Integer.MAX_VALUE : fields.indexOf(field));
            if (bracket >= 0) {
                order.add(Integer.parseInt(step.substring(bracket + 1, step.length() - 1)));
            }
            type = field == null ? null : field.getGenericType() instanceof ParameterizedType p
                    && p.getActualTypeArguments()[0] instanceof Class<?> item ? item : field.getType();
        }
        return order.stream().mapToInt(Integer::intValue).toArray();
    }
}
