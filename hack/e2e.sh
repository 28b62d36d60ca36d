#!/usr/bin/env bash
# The cluster tier: a real single-node Kubernetes (hack/cluster.sh), the image built and imported
# (hack/image.sh), the chart installed with helm, the classic topology (hack/topology.sh), then the tests tagged
# "cluster". Leaves the cluster up for a rerun or a look (hack/cluster.sh down; hack/topology.sh down). Needs root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hack/setup.sh
helm="$(hack/tools.sh helm)"
bin="$(hack/kubernetes/build.sh)"
mvn -B -q -ntp package -DskipTests

hack/cluster.sh up
export KUBECONFIG=/var/lib/jumpgate-cluster/admin.kubeconfig JUMPGATE_KUBECTL="$bin/kubectl"
hack/cluster.sh import "$(hack/image.sh)"
# A new image under the same tag: restart what runs it.
"$helm" upgrade --install jumpgate helm/jumpgate --namespace jumpgate-system --create-namespace --wait --timeout 180s >/dev/null
"$bin/kubectl" -n jumpgate-system rollout restart deployment/jumpgate >/dev/null
"$bin/kubectl" -n jumpgate-system rollout status deployment/jumpgate --timeout 180s >/dev/null
hack/topology.sh up

exec mvn -B -ntp verify -Dgroups=cluster -Djumpgate.test.excludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false "$@"
