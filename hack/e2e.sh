#!/usr/bin/env bash
# The cluster tier: a real single-node Kubernetes (hack/cluster.sh), the image built and imported
# (hack/image.sh), the chart installed with helm, the classic topology (hack/topology.sh), then the tests tagged
# "cluster". Takes the cluster and the topology down at the end and checks that the host is as it was, unless
# JUMPGATE_KEEP_CLUSTER=1 (for a rerun or a look). Needs root. Extra arguments go to Maven.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$JUMPGATE_ROOT"
[[ $(id -u) -eq 0 ]] || { echo "e2e: the cluster tier needs root" >&2; exit 1; }
STATE=/var/lib/jumpgate-cluster
keep() { [[ ${JUMPGATE_KEEP_CLUSTER:-} == 1 ]]; }
take_down() {
  hack/topology.sh down
  hack/cluster.sh down
  hack/cluster.sh check-clean   # down must leave nothing of up's behind
}
on_failure() {
  if keep; then echo "  The cluster is kept (JUMPGATE_KEEP_CLUSTER=1): hack/topology.sh down && hack/cluster.sh down stops it." >&2
  else echo "  Taking the cluster down; its logs stay in $STATE/logs." >&2; take_down >/dev/null 2>&1 || true; fi
}
steps_begin e2e

step "set-up; Kubernetes (Go), Jumpgate (Maven) and the image's Java base (debootstrap), side by side" \
  "The message above says what failed (hack/setup.sh, or the part named FAILED, with the end of its output)."
hack/setup.sh
helm="$(hack/kubernetes/build.sh helm)/helm"
bin="$(build_for_cluster)"

step "a single-node Kubernetes (hack/cluster.sh up)" \
  "A component did not start: its log is in $STATE/logs/ (the message above names it)."
# A run killed half-way (a CI stop at its time limit) leaves its etcd data and topology behind, and up would resume
# that cluster, its test namespaces and their agents (holding the relay's 4040) included: start from nothing, unless
# the cluster was kept on purpose (JUMPGATE_KEEP_CLUSTER=1, for a rerun).
if ! keep; then
  hack/topology.sh down >/dev/null 2>&1 || true
  hack/cluster.sh down >/dev/null
fi
hack/cluster.sh up
export KUBECONFIG="$STATE/admin.kubeconfig" JUMPGATE_KUBECTL="$bin/kubectl"

step "the image (hack/image.sh), imported into the node" \
  "buildah or debootstrap failed (message above); finished parts are cached in $JUMPGATE_CACHE/images."
hack/cluster.sh import "$(hack/image.sh)"

step "the operator installed by helm, and the classic topology" \
  "The operator did not become ready: rerun with JUMPGATE_KEEP_CLUSTER=1, then kubectl -n jumpgate-system get pods and logs deploy/jumpgate (KUBECONFIG=$STATE/admin.kubeconfig)."
hack/topology.sh up
# The operator is the topology's user CA (README: SSH certificates), as a user sets it up: relay-ca trusts that CA;
# the other relays take the tunnels' bare keys, which the agent offers after the certificate.
"$bin/kubectl" create namespace jumpgate-system --dry-run=client -o yaml | "$bin/kubectl" apply -f - >/dev/null
# Created, not applied: an apply would copy the CA's private key into the last-applied annotation.
"$bin/kubectl" -n jumpgate-system delete secret jumpgate-user-ca --ignore-not-found >/dev/null
"$bin/kubectl" -n jumpgate-system create secret generic jumpgate-user-ca --from-file=ca="$(hack/topology.sh user-ca-key)" >/dev/null
# A new image under the same tag: restart what runs it.
"$helm" upgrade --install jumpgate helm/jumpgate --namespace jumpgate-system --create-namespace --set watchAllNamespaces=true \
  --set userCA.secretName=jumpgate-user-ca --wait --timeout 180s >/dev/null
"$bin/kubectl" -n jumpgate-system rollout restart deployment/jumpgate >/dev/null
"$bin/kubectl" -n jumpgate-system rollout status deployment/jumpgate --timeout 180s >/dev/null

step "the cluster tests (mvn verify -Dgroups=cluster)" \
  "A cluster test failed: Maven's summary above names it, and the test printed the tunnel's status, events and the operator's and agent's logs. Rerun with JUMPGATE_KEEP_CLUSTER=1 to look at the cluster afterwards."
mvn -B -ntp verify -Dgroups=cluster -Djumpgate.test.excludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false "$@"

if ! keep; then
  step "taking it down, and checking that the host is as it was (hack/cluster.sh down, check-clean)" \
    "hack/cluster.sh check-clean named what down left on the host (above): that is a bug in hack/cluster.sh down."
  take_down
fi
