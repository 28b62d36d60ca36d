#!/usr/bin/env bash
# Records the classes an agent pod loads into src/main/docker/agent.classlist, the list the Dockerfile's class-data
# archive (AppCDS) is written from. Run it on the demo (hack/demo.sh first) after changing what the agent depends on:
# it holds the operator for a moment (scaled to 0, so it does not undo the change), restarts the demo's agent with
# -XX:DumpLoadedClassList, sends traffic both ways through the tunnel, reads its probes and metrics, copies the list
# out and gives the agent back to the operator. Then rebuild the image (hack/image.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$JUMPGATE_ROOT"
[[ $(id -u) -eq 0 ]] || { echo "agent-classlist: needs root (the demo's network namespaces)" >&2; exit 1; }
export KUBECONFIG=/var/lib/jumpgate-cluster/admin.kubeconfig
kubectl="$(hack/kubernetes/build.sh kubectl)/kubectl"
[[ -x $kubectl && -f $KUBECONFIG ]] || { echo "agent-classlist: no demo cluster; run hack/demo.sh first" >&2; exit 1; }
agent=(-n lab deployment/default-pool)
LIST=src/main/docker/agent.classlist

give_back() {
  "$kubectl" "${agent[@]}" --ignore-not-found=true delete >/dev/null 2>&1 || true   # the operator makes it again
  "$kubectl" -n jumpgate-system scale deployment/jumpgate --replicas=1 >/dev/null
}
trap give_back EXIT
"$kubectl" -n jumpgate-system scale deployment/jumpgate --replicas=0 >/dev/null
"$kubectl" -n jumpgate-system rollout status deployment/jumpgate --timeout 60s >/dev/null
"$kubectl" set env "${agent[@]}" JAVA_OPTS_APPEND="-Xshare:off -XX:DumpLoadedClassList=/tmp/agent.classlist" >/dev/null
"$kubectl" rollout status "${agent[@]}" --timeout 120s >/dev/null
"$kubectl" -n lab wait --for=condition=Ready reversetunnel/lab-ssh --timeout 90s >/dev/null
head -c 50M /dev/zero | hack/topology.sh ssh-from-laptop -p 4040 root@192.0.2.10 'cat >/dev/null'
hack/topology.sh ssh-from-laptop -p 4040 root@192.0.2.10 'head -c 50M /dev/zero' >/dev/null
pod="$("$kubectl" -n lab get pods -l app.kubernetes.io/component=agent --field-selector=status.phase=Running -o name | head -n 1)"
"$kubectl" get --raw "/api/v1/namespaces/lab/pods/${pod#pod/}:8080/proxy/q/metrics" >/dev/null
{
  grep '^#' "$LIST"   # the list's own header; the JVM's comment lines are left out below
  "$kubectl" -n lab exec "$pod" -- cat /tmp/agent.classlist | grep -v '^#'
} > "$LIST.new"
mv "$LIST.new" "$LIST"
echo "agent-classlist: $(grep -vc '^#' "$LIST") classes in $LIST; now rebuild the image (hack/image.sh)"
