package dev.jumpgate.operator.dependent;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Iterator;
import java.util.Map;

/**
 * Whether an object as the API server holds it still has every field the operator wants, with the value it wants:
 * what the server defaulted (probe timeouts, protocols, a revision annotation) or someone else added is not the
 * operator's business, exactly as with server-side apply, which writes only the fields it sets. A list matches when
 * each wanted element is in it, wherever, as server-side apply merges lists keyed by name.
 */
final class DesiredFields {

    private DesiredFields() {
    }

    static boolean presentIn(JsonNode wanted, JsonNode actual) {
        if (wanted == null || wanted.isNull()) {
            return true;
        }
        if (actual == null || actual.isNull()) {
            return isEmpty(wanted);
        }
        if (wanted.isObject()) {
            if (!actual.isObject()) {
                return false;
            }
            for (Iterator<Map.Entry<String, JsonNode>> fields = wanted.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                if (!presentIn(field.getValue(), actual.get(field.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (wanted.isArray()) {
            if (!actual.isArray()) {
                return false;
            }
            for (JsonNode element : wanted) {
                boolean found = false;
                for (Iterator<JsonNode> candidates = actual.elements(); candidates.hasNext() && !found; ) {
                    found = presentIn(element, candidates.next());
                }
                if (!found) {
                    return false;
                }
            }
            return true;
        }
        return wanted.equals(actual) || sameQuantity(wanted, actual);
    }

    /** An empty map or list the server does not keep (it omits them) is as good as absent. */
    private static boolean isEmpty(JsonNode wanted) {
        return (wanted.isObject() || wanted.isArray()) && wanted.isEmpty();
    }

    /** The server writes quantities in canonical form: "0.5" comes back as "500m". */
    private static boolean sameQuantity(JsonNode wanted, JsonNode actual) {
        if (!wanted.isTextual() || !actual.isTextual()) {
            return false;
        }
        try {
            return Quantity.getAmountInBytes(new Quantity(wanted.asText()))
                    .compareTo(Quantity.getAmountInBytes(new Quantity(actual.asText()))) == 0;
        } catch (IllegalArgumentException e) {
            return false; // not quantities
        }
    }
}
