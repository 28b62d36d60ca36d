#!/usr/bin/env bash
# The main job: the classic recipe rebuilt with Jumpgate on this machine. A single-node Kubernetes
# (hack/cluster.sh), the Jumpgate image built and loaded (hack/image.sh), the operator installed with helm, the
# recipe's hosts in network namespaces (hack/topology.sh: the lab machine 10.8.92.10, the relay 203.0.113.10, the
# laptop), one ReverseTunnel from examples/, and the laptop's `ssh -p 4040 root@relay` landing on the lab machine.
# Needs root. Leaves it all running; hack/topology.sh down && hack/cluster.sh down stops it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { printf '\n== %s\n' "$*"; }

say "setting up (Debian packages, helm, Kubernetes binaries: cached after the first run)"
hack/setup.sh
helm="$(hack/tools.sh helm)"
bin="$(hack/kubernetes/build.sh)"
kubectl="$bin/kubectl"
mvn -B -q -ntp package -DskipTests

say "a single-node Kubernetes: hack/cluster.sh up"
hack/cluster.sh up
export KUBECONFIG=/var/lib/jumpgate-cluster/admin.kubeconfig
"$kubectl" get nodes

say "the image, built by buildah from the Dockerfile and loaded into the node: hack/image.sh"
hack/cluster.sh import "$(hack/image.sh)"

say "the operator: helm install jumpgate helm/jumpgate"
"$helm" upgrade --install jumpgate helm/jumpgate --namespace jumpgate-system --create-namespace --wait --timeout 180s >/dev/null
"$kubectl" -n jumpgate-system rollout restart deployment/jumpgate >/dev/null
"$kubectl" -n jumpgate-system rollout status deployment/jumpgate --timeout 180s

say "the hosts of the classic recipe: hack/topology.sh up"
hack/topology.sh up

say "the tunnel: examples/lab-ssh.yaml, pointed at this relay with its host key pinned"
"$kubectl" create namespace lab --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
sed -e "s/host: relay.example.com/host: 203.0.113.10/" -e "s/user: tunnel/user: root/" \
    -e "s|\"ssh-ed25519 AAAA[^\"]*\"|\"$(hack/topology.sh relay-hostkey)\"|" examples/lab-ssh.yaml |
  "$kubectl" -n lab apply -f -
until line="$("$kubectl" -n lab get rtun lab-ssh -o jsonpath='{.status.authorizedKey}' 2>/dev/null)" && [[ -n $line ]]; do sleep 1; done
say "on the relay, the tunnel's status.authorizedKey goes into ~root/.ssh/authorized_keys:"
echo "$line"
hack/topology.sh relay-authorize "$line"
"$kubectl" -n lab wait --for=condition=Ready reversetunnel/lab-ssh --timeout=120s
"$kubectl" -n lab get reversetunnels

say "from the laptop: ssh -p 4040 root@relay runs a command on the lab machine"
hack/topology.sh ssh-from-laptop -p 4040 root@192.0.2.10 \
  'echo "hello from the lab machine, $(ip -4 -o addr show | grep -o "inet 10.8.92.10")"' 2>/dev/null

say "done. Look around: export KUBECONFIG=$KUBECONFIG; $kubectl -n lab describe rtun lab-ssh"
echo "Stop it all: hack/topology.sh down && hack/cluster.sh down"
