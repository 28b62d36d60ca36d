#!/usr/bin/env bash
# Every test tier: the set-up check, unit, agent against a real OpenSSH relay, operator against the Fabric8 mock API
# server and a real kube-apiserver, the Helm chart rendered by a real helm; then, as root, the cluster tier
# (hack/e2e.sh: a real single-node Kubernetes, the chart installed, the classic topology and its faults). Sets up
# what is missing first. Prints each step's time, and on failure which step failed and what to do. See
# docs/testing.md. Extra arguments go to Maven (e.g. -Dtest=TunnelAgentRelayTest; no cluster tier then).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$JUMPGATE_ROOT"
steps_begin tests

step "set-up (hack/setup.sh)" \
  "hack/setup.sh installs Debian packages with apt-get and builds helm from its Go module: the message above says which failed."
hack/setup.sh

step "every command the scripts and tests run is installed by the set-up (hack/setup.sh --check)" \
  "A script or test runs a command that a base Debian 12 system lacks and hack/packages.txt does not list (FAIL lines above): add it there with its Debian package, or drop the use."
hack/setup.sh --check
python3 -m unittest discover -s hack -p 'test_*.py'

step "etcd, kube-apiserver and kubectl for the API server tier (built from their Go modules; cached)" \
  "go build failed (message above): a full disk or an unreachable Go module proxy are the usual causes. Rerun: what was built is kept."
JUMPGATE_HELM="$(hack/kubernetes/build.sh helm)/helm"
bin="$(hack/kubernetes/build.sh etcd kube-apiserver kubectl)"
JUMPGATE_KUBECTL="$bin/kubectl"
export JUMPGATE_HELM JUMPGATE_KUBECTL
# kube-api-test runs etcd and kube-apiserver from a directory laid out as it expects, with downloads off.
version="$(basename "$(dirname "$bin")")"
KUBE_API_TEST_DIR="$JUMPGATE_CACHE/kubeapitest"
mkdir -p "$KUBE_API_TEST_DIR/k8s/${version#v}-linux-amd64"
for b in etcd kube-apiserver kubectl; do ln -sf "$bin/$b" "$KUBE_API_TEST_DIR/k8s/${version#v}-linux-amd64/$b"; done
export KUBE_API_TEST_DIR KUBE_API_TEST_OFFLINE_MODE=true KUBE_API_TEST_API_SERVER_VERSION="${version#v}"

step "unit, relay, operator, API server and chart tiers (mvn verify)" \
  "A test failed: Maven's summary above names it; its output is in target/surefire-reports/ (the class's -output.txt). Rerun one class: hack/test.sh -Dtest=ClassName."
mvn -B -ntp verify "$@"

if (( $# == 0 )); then
  step "the cluster tier (hack/e2e.sh)" \
    "hack/e2e.sh printed which of its steps failed, and put the host back. Rerun it alone: hack/e2e.sh (JUMPGATE_KEEP_CLUSTER=1 keeps the cluster for a look)."
  JUMPGATE_PACKAGED=1 hack/e2e.sh
fi
