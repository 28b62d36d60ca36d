#!/usr/bin/env bash
# The cluster tier: a real single-node Kubernetes (hack/cluster.sh), the image built and imported
# (hack/image.sh), the chart installed with helm, the classic topology (hack/topology.sh), then the tests tagged
# "cluster". Stops the cluster and the topology at the end, unless JUMPGATE_KEEP_CLUSTER=1 (for a rerun or a look).
# Needs root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $(id -u) -eq 0 ]] || { echo "e2e: the cluster tier needs root" >&2; exit 1; }
hack/setup.sh
helm="$(hack/tools.sh helm)"
bin="$(hack/kubernetes/build.sh)"
[[ ${JUMPGATE_PACKAGED:-} == 1 ]] || mvn -B -q -ntp package -DskipTests
teardown() {
  local status=$?
  hack/topology.sh down
  hack/cluster.sh down
  hack/cluster.sh check-clean || status=1   # down must leave nothing of up's behind
  exit "$status"
}
[[ ${JUMPGATE_KEEP_CLUSTER:-} == 1 ]] || trap teardown EXIT

hack/cluster.sh up
export KUBECONFIG=/var/lib/jumpgate-cluster/admin.kubeconfig JUMPGATE_KUBECTL="$bin/kubectl"
hack/cluster.sh import "$(hack/image.sh)"
# A new image under the same tag: restart what runs it.
"$helm" upgrade --install jumpgate helm/jumpgate --namespace jumpgate-system --create-namespace --wait --timeout 180s >/dev/null
"$bin/kubectl" -n jumpgate-system rollout restart deployment/jumpgate >/dev/null
"$bin/kubectl" -n jumpgate-system rollout status deployment/jumpgate --timeout 180s >/dev/null
hack/topology.sh up

mvn -B -ntp verify -Dgroups=cluster -Djumpgate.test.excludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false "$@"
