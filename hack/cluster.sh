#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, for the cluster tests and the demo: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet and kube-proxy built from their Go modules
# (hack/kubernetes/build.sh), containerd, runc and the CNI plugins from Debian, the pause image built from
# Kubernetes' own pause.c. No registry, no Docker engine; needs root.
#
#   hack/cluster.sh up       start everything (again after a crash: it stops leftovers first);
#                            JUMPGATE_CLUSTER_NODE=0 starts the control plane only (bench/controlplane.py)
#   hack/cluster.sh down     stop everything up started, by pid, put the host back as it was (only what up
#                            made: its chains, links, mounts, sysctls, the directory and module it added), forget
#                            the cluster's objects (the next up is a fresh cluster; certificates and images stay)
#   hack/cluster.sh status   what runs
#   hack/cluster.sh check-clean   fails if down left anything of up's on the host
#   hack/cluster.sh env      prints export KUBECONFIG=... for a shell: eval "$(hack/cluster.sh env)"
#   hack/cluster.sh import IMAGE.tar   load an image (docker-archive) into the node's containerd
#
# Layout: the node's address is 172.30.0.1 on a dummy interface (jumpgate0; on lo where the kernel has no dummy
# module), which the apiserver advertises and the
# kubelet reports (neither may be loopback: pods must reach them); pods get 10.244.0.0/24 on the bridge jgbr0;
# Services 10.96.0.0/24 (kubernetes = 10.96.0.1), by kube-proxy in iptables mode.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$JUMPGATE_ROOT"

STATE="${JUMPGATE_CLUSTER_DIR:-/var/lib/jumpgate-cluster}"
RUN=/run/jumpgate-cluster
NODE_IP=172.30.0.1
NODE_DEV=jumpgate0
NODE_NAME=jumpgate-node
POD_CIDR=10.244.0.0/24
BRIDGE=jgbr0
SERVICE_CIDR=10.96.0.0/24
SERVICE_IP=10.96.0.1
PAUSE_IMAGE=registry.k8s.io/pause:3.10
CONTAINERD_SOCK="$RUN/containerd.sock"
# The kubelet sets these when it starts; down puts back what was there before up.
SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables)
# What up added to the host beyond its own directories, one "kind value" a line, for down to take away again.
CREATED="$STATE/host.created"

log() { echo "cluster: $*" >&2; }
die() { log "$*"; exit 1; }

bin_dir() { hack/kubernetes/build.sh; }

# The phases, one file each: certificates, the host's changes and their undoing, the node's processes and images.
for part in pki host node; do
  source "$JUMPGATE_ROOT/hack/cluster/$part.sh"
done

up() {
  [[ $(id -u) -eq 0 ]] || die "needs root (network interfaces, iptables, containers)"
  # The runtime, the CNI plugins and what kube-proxy and the pause image need; runc and the plugins by the paths
  # the configurations below name.
  need containerd ctr /usr/sbin/runc /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/portmap \
    iptables iptables-save iptables-restore conntrack ip sysctl openssl curl gcc strip umoci skopeo pgrep ps
  down_processes   # a crash or a second up: start clean, keep certs and etcd data
  BIN="$(bin_dir)"
  mkdir -p "$STATE/logs"
  host_up
  pki
  local pki="$STATE/pki"

  start etcd "$BIN/etcd" --data-dir "$STATE/etcd" --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster default=http://127.0.0.1:2380 --log-level warn
  wait_for etcd 30 curl -fsS http://127.0.0.1:2379/health

  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --advertise-address "$NODE_IP" --bind-address 0.0.0.0 --secure-port 6443 \
    --service-cluster-ip-range "$SERVICE_CIDR" --client-ca-file "$pki/ca.crt" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=false
  wait_for kube-apiserver 60 "$BIN/kubectl" --kubeconfig "$STATE/admin.kubeconfig" get --raw /readyz

  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/controller-manager.kubeconfig" --authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --use-service-account-credentials \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --leader-elect=false --bind-address 127.0.0.1
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/scheduler.kubeconfig" --authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1

  if [[ ${JUMPGATE_CLUSTER_NODE:-1} == 0 ]]; then
    log "up: control plane only (no node runs pods); eval \"\$(hack/cluster.sh env)\""
    return
  fi
  containerd_config
  start containerd containerd --config "$STATE/containerd/config.toml"
  wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
  pause_image

  kubelet_config
  start kubelet "$BIN/kubelet" --config "$STATE/kubelet.yaml" --kubeconfig "$STATE/kubelet.kubeconfig" \
    --node-ip "$NODE_IP" --hostname-override "$NODE_NAME" --root-dir "$STATE/kubelet"
  start kube-proxy "$BIN/kube-proxy" --kubeconfig "$STATE/kube-proxy.kubeconfig" --proxy-mode iptables \
    --cluster-cidr "$POD_CIDR" --hostname-override "$NODE_NAME" --oom-score-adj=0 --conntrack-max-per-core=0 \
    --bind-address "$NODE_IP" --metrics-bind-address 127.0.0.1:10249
  wait_for "node $NODE_NAME" 120 sh -c "'$BIN/kubectl' --kubeconfig '$STATE/admin.kubeconfig' get node $NODE_NAME \
    -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -q True"
  log "up: Kubernetes $(basename "$(dirname "$BIN")") on node $NODE_NAME ($NODE_IP); eval \"\$(hack/cluster.sh env)\""
}

down_processes() {
  for name in kube-proxy kubelet containerd kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$name"; done
}

down() {
  # The next up starts a fresh cluster (certificates and the image store are kept).
  trap 'rm -rf "$STATE/etcd" "$STATE/kubelet"' RETURN
  BIN="$JUMPGATE_CACHE/kubernetes/$(cd hack/kubernetes && go list -m -f '{{.Version}}' k8s.io/kubernetes)/bin"
  down_processes
  host_down
  log "down"
}

# What up leaves on the host, if anything is left after down: the cluster tier checks that down cleans.
check_clean() {
  local left=()
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy; do
    running "$name" && left+=("process $name")
  done
  [[ -n "$(our_shims)" ]] && left+=("containerd shims of $CONTAINERD_SOCK")
  [[ -n "$(kubepods_processes)" ]] && left+=("processes in the kubepods cgroups")
  iptables-save 2>/dev/null | grep -qE 'KUBE-|CNI-' && left+=("iptables chains KUBE-*/CNI-*")
  ip link show "$BRIDGE" >/dev/null 2>&1 && left+=("bridge $BRIDGE")
  ip -o addr show | grep -q " $NODE_IP/" && left+=("address $NODE_IP")
  grep -qE " ($STATE|$RUN)/| /run/netns/cni-" /proc/self/mounts && left+=("mounts")
  [[ -f "$STATE/sysctls.saved" ]] && left+=("sysctls not restored")
  [[ -f "$CREATED" ]] && left+=("$(tr '\n' ' ' < "$CREATED")(in $CREATED)")
  if (( ${#left[@]} )); then log "left on the host: ${left[*]}"; return 1; fi
  log "the host is clean"
}

status() {
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy; do
    if running "$name"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  check-clean) check_clean ;;
  env) echo "export KUBECONFIG=$STATE/admin.kubeconfig" ;;
  import) import "${2:?image tarball}" ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
