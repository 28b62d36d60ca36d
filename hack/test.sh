#!/usr/bin/env bash
# Every test tier: unit, agent against a real OpenSSH relay, operator against the Fabric8 mock API server and a
# real kube-apiserver, the Helm chart rendered by a real helm; then, as root, the cluster tier (hack/e2e.sh: a
# real single-node Kubernetes, the chart installed, the classic topology and its faults). Sets up what is missing
# first. See docs/testing.md. Extra arguments go to Maven (e.g. -Dtest=TunnelAgentRelayTest; no cluster tier then).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hack/setup.sh

JUMPGATE_HELM="$(hack/tools.sh helm)"
export JUMPGATE_HELM

# The API server tier: kube-api-test runs etcd and kube-apiserver from a directory laid out as it expects,
# built here from Kubernetes' Go module, with downloads off.
bin="$(hack/kubernetes/build.sh etcd kube-apiserver kubectl)"
version="$(basename "$(dirname "$bin")")"
KUBE_API_TEST_DIR="${JUMPGATE_CACHE:-$HOME/.cache/jumpgate}/kubeapitest"
mkdir -p "$KUBE_API_TEST_DIR/k8s/${version#v}-linux-amd64"
for b in etcd kube-apiserver kubectl; do ln -sf "$bin/$b" "$KUBE_API_TEST_DIR/k8s/${version#v}-linux-amd64/$b"; done
export KUBE_API_TEST_DIR KUBE_API_TEST_OFFLINE_MODE=true KUBE_API_TEST_API_SERVER_VERSION="${version#v}"

mvn -B -ntp verify "$@"
if (( $# == 0 )); then
  JUMPGATE_PACKAGED=1 hack/e2e.sh
fi
