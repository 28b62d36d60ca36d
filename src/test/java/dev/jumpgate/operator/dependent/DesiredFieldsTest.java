package dev.jumpgate.operator.dependent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class DesiredFieldsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A container as the operator wants it. */
    private static final String WANTED = """
            {"metadata": {"name": "lab-agent", "labels": {"app.kubernetes.io/managed-by": "jumpgate-operator"}},
             "spec": {"replicas": 1, "template": {"spec": {"containers": [{
               "name": "agent",
               "env": [{"name": "JUMPGATE_MODE", "value": "agent"},
                       {"name": "JUMPGATE_TUNNEL_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
               "readinessProbe": {"httpGet": {"path": "/q/health/ready", "port": "http"}, "periodSeconds": 5},
               "resources": {"requests": {"cpu": "0.5", "memory": "128Mi"}},
               "securityContext": {"capabilities": {"drop": ["ALL"]}}}],
               "imagePullSecrets": []}}}}
            """;

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** The same as the API server returns it: defaults filled in, quantities canonical, other managers' additions. */
    private static String asStored() {
        return """
            {"metadata": {"name": "lab-agent", "uid": "u1", "resourceVersion": "261",
                          "labels": {"app.kubernetes.io/managed-by": "jumpgate-operator"},
                          "annotations": {"deployment.kubernetes.io/revision": "1"}},
             "spec": {"replicas": 1, "revisionHistoryLimit": 10, "template": {"metadata": {"annotations":
                        {"kubectl.kubernetes.io/restartedAt": "2026-11-24T02:19:09Z"}},
               "spec": {"dnsPolicy": "ClusterFirst", "containers": [{
               "name": "agent", "terminationMessagePath": "/dev/termination-log",
               "env": [{"name": "JUMPGATE_MODE", "value": "agent"},
                       {"name": "JUMPGATE_TUNNEL_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                       {"name": "ADDED_BY_SOMEONE", "value": "x"}],
               "readinessProbe": {"httpGet": {"path": "/q/health/ready", "port": "http", "scheme": "HTTP"},
                                  "periodSeconds": 5, "successThreshold": 1, "timeoutSeconds": 1},
               "resources": {"requests": {"cpu": "500m", "memory": "128Mi"}},
               "securityContext": {"capabilities": {"drop": ["ALL"]}}}]}}},
             "status": {"replicas": 1}}
            """;
    }

    @Test
    void whatTheServerDefaultedOrOthersAddedStillMatches() {
        assertThat(DesiredFields.presentIn(json(WANTED), json(asStored()))).isTrue();
    }

    /** Whether the operator's container still matches once the stored object has {@code from} edited into {@code to}. */
    private static boolean matchesWith(String from, String to) {
        String stored = asStored();
        assertThat(stored).contains(from);
        return DesiredFields.presentIn(json(WANTED), json(stored.replace(from, to)));
    }

    @Test
    void aChangedValueDoesNotMatch() {
        assertThat(matchesWith("\"periodSeconds\": 5", "\"periodSeconds\": 50")).isFalse();
        assertThat(matchesWith("\"cpu\": \"500m\"", "\"cpu\": \"600m\"")).isFalse();
    }

    @Test
    void aWantedFieldOrListElementThatIsGoneDoesNotMatch() {
        assertThat(matchesWith("\"drop\": [\"ALL\"]", "\"drop\": []")).isFalse();
        assertThat(matchesWith("{\"name\": \"JUMPGATE_MODE\", \"value\": \"agent\"},", "")).isFalse();
        assertThat(matchesWith("\"replicas\": 1, \"revisionHistoryLimit\"", "\"revisionHistoryLimit\"")).isFalse();
    }

    @Test
    void aStringThatIsNoQuantityIsComparedAsItIs() {
        assertThat(DesiredFields.presentIn(json("{\"a\": \"http\"}"), json("{\"a\": \"https\"}"))).isFalse();
        assertThat(DesiredFields.presentIn(json("{\"a\": \"1Gi\"}"), json("{\"a\": \"1024Mi\"}"))).isTrue();
    }
}
