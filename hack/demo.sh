#!/usr/bin/env bash
# The main job: the classic recipe rebuilt with Jumpgate on this machine. A single-node Kubernetes
# (hack/cluster.sh), the Jumpgate image built and loaded (hack/image.sh), the operator installed with helm, the
# recipe's hosts in network namespaces (hack/topology.sh: the lab machine 10.8.92.10, the relay 203.0.113.10, the
# laptop), one ReverseTunnel from examples/, and the laptop's `ssh -p 4040 root@relay` landing on the lab machine.
# Needs root. Prints each step's time. On success it leaves it all running for a look
# (hack/topology.sh down && hack/cluster.sh down stops it); on failure it says which step failed and what to do,
# and puts the host back as it was (JUMPGATE_KEEP_CLUSTER=1 keeps what is up, for a look).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$JUMPGATE_ROOT"
[[ $(id -u) -eq 0 ]] || { echo "demo: needs root (a cluster node, network namespaces)" >&2; exit 1; }
STATE=/var/lib/jumpgate-cluster
on_failure() {
  if [[ ${JUMPGATE_KEEP_CLUSTER:-} == 1 ]]; then
    echo "  Kept running for a look (JUMPGATE_KEEP_CLUSTER=1); hack/topology.sh down && hack/cluster.sh down stops it." >&2
    return
  fi
  echo "  Putting the host back (hack/topology.sh down, hack/cluster.sh down); logs stay in $STATE/logs." >&2
  hack/topology.sh down >/dev/null 2>&1 || true
  hack/cluster.sh down >/dev/null 2>&1 || true
}
steps_begin demo

step "set-up: Debian packages and helm (hack/setup.sh)" \
  "hack/setup.sh installs Debian packages with apt-get and builds helm from its Go module: the message above says which failed. Check that apt-get update works and that Go can reach its module proxy, then run hack/demo.sh again."
hack/setup.sh
helm="$(hack/kubernetes/build.sh helm)/helm"

step "Kubernetes v1.34 and etcd (Go), Jumpgate (Maven) and the image's Java base (debootstrap), side by side" \
  "The part named FAILED above did not build; the end of its output is shown. Go: a full disk or an unreachable module proxy (go env GOPROXY). Maven: run mvn -B package -DskipTests for its whole output. debootstrap: the Debian mirror apt uses. Rerun: what was built is kept."
bin="$(build_for_cluster)"
kubectl="$bin/kubectl"

step "a single-node Kubernetes: hack/cluster.sh up" \
  "A component did not start: its log is in $STATE/logs/ (the message above names it). hack/cluster.sh status shows what runs."
hack/cluster.sh up
export KUBECONFIG="$STATE/admin.kubeconfig"
"$kubectl" get nodes

step "the image, built by buildah from the Dockerfile and loaded into the node: hack/image.sh" \
  "buildah or the import into containerd failed: the message above says which."
hack/cluster.sh import "$(hack/image.sh)"

step "the operator: helm install jumpgate helm/jumpgate" \
  "The operator did not become ready. Look at: kubectl -n jumpgate-system get pods; kubectl -n jumpgate-system logs deploy/jumpgate (export KUBECONFIG=$STATE/admin.kubeconfig; kubectl is $kubectl). Rerun with JUMPGATE_KEEP_CLUSTER=1 to keep the cluster for that."
# The tunnel's namespace first: the chart grants the operator its rights there, in a Role (least privilege).
"$kubectl" create namespace lab --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$helm" upgrade --install jumpgate helm/jumpgate --namespace jumpgate-system --create-namespace --set "watchNamespaces={lab}" --wait --timeout 180s >/dev/null
"$kubectl" -n jumpgate-system rollout restart deployment/jumpgate >/dev/null   # a new image under the same tag
"$kubectl" -n jumpgate-system rollout status deployment/jumpgate --timeout 180s

step "the hosts of the classic recipe: hack/topology.sh up" \
  "Making the network namespaces or starting an sshd failed (message above); hack/topology.sh status shows what is there."
hack/topology.sh up

step "the tunnel: examples/lab-ssh.yaml, pointed at this relay with its host key pinned" \
  "The tunnel did not get ready. Its status says why: kubectl -n lab describe rtun lab-ssh; the agent's log: kubectl -n lab logs deploy/default-pool. Rerun with JUMPGATE_KEEP_CLUSTER=1 to keep it for a look."
sed -e "s/host: relay.example.com/host: 203.0.113.10/" -e "s/user: tunnel/user: root/" \
    -e "s|\"ssh-ed25519 AAAA[^\"]*\"|\"$(hack/topology.sh relay-hostkey)\"|" examples/lab-ssh.yaml |
  "$kubectl" -n lab apply -f -
for _ in $(seq 1 120); do
  line="$("$kubectl" -n lab get rtun lab-ssh -o jsonpath='{.status.authorizedKey}' 2>/dev/null)" && [[ -n $line ]] && break
  sleep 1
done
[[ -n $line ]] || { echo "demo: the operator wrote no status.authorizedKey in 120 s" >&2; exit 1; }
echo "on the relay, the tunnel's status.authorizedKey goes into ~root/.ssh/authorized_keys:"
echo "$line"
hack/topology.sh relay-authorize "$line"
"$kubectl" -n lab wait --for=condition=Ready reversetunnel/lab-ssh --timeout=120s
"$kubectl" -n lab get reversetunnels

step "from the laptop: ssh -p 4040 root@relay runs a command on the lab machine" \
  "The tunnel is Ready but the laptop did not land on the lab machine: see ssh's message above; the relay's log is /var/lib/jumpgate-topology/relay/sshd.log."
hack/topology.sh ssh-from-laptop -p 4040 root@192.0.2.10 \
  'echo "hello from the lab machine, $(ip -4 -o addr show | grep -o "inet 10.8.92.10")"' 2>/dev/null

step_done
echo
echo "Look around: export KUBECONFIG=$KUBECONFIG; $kubectl -n lab describe rtun lab-ssh"
echo "Stop it all: hack/topology.sh down && hack/cluster.sh down"
