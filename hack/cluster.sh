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

# ---------------------------------------------------------------------------------------------- certificates
# Certificates are kept between clusters (a next up starts at once) and made again when they expire within this
# many seconds (30 days), with the kubeconfigs that embed them; the CA (10 years) the same way, and all with it.
RENEW_BEFORE=2592000
fresh() { [[ -f $1 ]] && openssl x509 -checkend "$RENEW_BEFORE" -noout -in "$1" >/dev/null 2>&1; }

# RSA for client keys: the Fabric8 client cannot read EC keys in PKCS#8 without Bouncy Castle.
cert() { # name CN O [SANs]
  local name=$1 cn=$2 org=$3 sans=${4:-}
  fresh "$STATE/pki/$name.crt" && return
  [[ -f "$STATE/pki/$name.crt" ]] && log "renewing the $name certificate (expires within 30 days)"
  rm -f "$STATE/$name.kubeconfig"
  local ext="$STATE/pki/$name.ext"
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"; [[ -n $sans ]] && echo "subjectAltName=$sans"; } > "$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$STATE/pki/$name.key" \
    -subj "/CN=$cn${org:+/O=$org}" -out "$STATE/pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$STATE/pki/$name.csr" -CA "$STATE/pki/ca.crt" -CAkey "$STATE/pki/ca.key" -CAcreateserial \
    -days 365 -extfile "$ext" -out "$STATE/pki/$name.crt" 2>/dev/null
}

pki() {
  mkdir -p "$STATE/pki"
  if [[ -f "$STATE/pki/ca.crt" ]] && ! fresh "$STATE/pki/ca.crt"; then
    log "renewing the cluster's CA and every certificate it signed (the CA expires within 30 days)"
    rm -f "$STATE"/pki/* "$STATE"/*.kubeconfig
  fi
  if [[ ! -f "$STATE/pki/ca.crt" ]]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -keyout "$STATE/pki/ca.key" -subj "/CN=jumpgate-cluster-ca" -out "$STATE/pki/ca.crt" 2>/dev/null
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$STATE/pki/sa.key" 2>/dev/null
    openssl pkey -in "$STATE/pki/sa.key" -pubout -out "$STATE/pki/sa.pub"
  fi
  cert apiserver kube-apiserver "" "IP:$SERVICE_IP,IP:$NODE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  cert admin admin system:masters
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert controller-manager system:kube-controller-manager ""
  cert scheduler system:kube-scheduler ""
  cert kube-proxy system:kube-proxy ""
  cert kubelet "system:node:$NODE_NAME" system:nodes "IP:$NODE_IP,DNS:$NODE_NAME"
  for who in admin controller-manager scheduler kube-proxy kubelet; do kubeconfig "$who"; done
}

kubeconfig() { # who
  local who=$1 file="$STATE/$1.kubeconfig"
  [[ -f $file ]] && return
  local k="$BIN/kubectl --kubeconfig=$file"
  $k config set-cluster jumpgate --server="https://$NODE_IP:6443" --certificate-authority="$STATE/pki/ca.crt" --embed-certs >/dev/null
  $k config set-credentials "$who" --client-certificate="$STATE/pki/$who.crt" --client-key="$STATE/pki/$who.key" --embed-certs >/dev/null
  $k config set-context jumpgate --cluster=jumpgate --user="$who" >/dev/null
  $k config use-context jumpgate >/dev/null
}

# ---------------------------------------------------------------------------------------------- host setup
# The processes of every pod a kubelet runs here (cgroupfs: kubepods under each controller, or cgroup v2's root).
kubepods_processes() {
  local cg
  for cg in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice /sys/fs/cgroup/kubepods*; do
    [[ -d $cg ]] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
  return 0
}

# Another Kubernetes on this host (its kube-proxy's chains, its kubelet's pods) would be torn down with ours: refuse.
refuse_foreign_cluster() {
  [[ -f "$CREATED" ]] && return  # leftovers of our own up, which down will take away
  if iptables-save 2>/dev/null | grep -qE '^:(KUBE|CNI)-'; then
    die "this host already has KUBE-*/CNI-* iptables chains, from another Kubernetes: stop it first (down would remove them)"
  fi
  [[ -z "$(kubepods_processes)" ]] || die "the kubepods cgroups have processes: another kubelet runs pods on this host; stop it first"
}

host_up() {
  mkdir -p "$STATE" "$RUN"
  refuse_foreign_cluster
  touch "$CREATED"
  if [[ ! -f "$STATE/sysctls.saved" ]]; then
    for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s" 2>/dev/null || echo)"; done > "$STATE/sysctls.saved"
  fi
  # bridge-nf-call-iptables needs br_netfilter; where it is a module (not built in), load it and unload it at down.
  if [[ ! -e /proc/sys/net/bridge ]]; then
    need modprobe
    modprobe br_netfilter
    grep -qx "module br_netfilter" "$CREATED" || echo "module br_netfilter" >> "$CREATED"
  fi
  # /run/netns must be a shared mount before containerd puts pods' namespaces there: "ip netns add" makes it one
  # when first called, and doing that later (hack/topology.sh) duplicates the pods' netns mounts, which then
  # cannot be removed (EBUSY) and pods never terminate.
  ip netns add jg-mount-probe && ip netns del jg-mount-probe
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  # A dummy interface where the kernel has the module; else an address on lo (any local address is delivered).
  if ! ip -o addr show | grep -q " $NODE_IP/"; then
    if ip link add "$NODE_DEV" type dummy 2>/dev/null; then
      ip addr add "$NODE_IP/32" dev "$NODE_DEV"
      ip link set "$NODE_DEV" up
    else
      ip addr add "$NODE_IP/32" dev lo
    fi
  fi
  mkdir -p "$STATE/cni"
  cat > "$STATE/cni/10-jumpgate.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "jumpgate",
 "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$STATE/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
}

host_down() {
  [[ -f "$CREATED" ]] || return 0  # up made nothing on this host (or down already took it away)
  # The pods' containers outlive containerd's shims only if nobody kills them: everything under kubepods goes.
  kubepods_processes | xargs -r kill -9 2>/dev/null || true
  pkill -9 -f "containerd-shim.*-address $CONTAINERD_SOCK" 2>/dev/null || true
  # Mounts made for pods (secret volumes, shm, rootfs) under our directories, deepest first.
  awk -v a="$STATE/" -v b="$RUN/" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  # Every chain and rule the kubelet, kube-proxy and the CNI plugins made (KUBE-*, CNI-*), in every table, at once.
  # (refuse_foreign_cluster made sure at up that they are all ours.)
  iptables-save 2>/dev/null | grep -vE 'KUBE-|CNI-' | iptables-restore 2>/dev/null || true
  if command -v ip6tables-save >/dev/null; then
    ip6tables-save 2>/dev/null | grep -vE 'KUBE-|CNI-' | ip6tables-restore 2>/dev/null || true
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$NODE_DEV" 2>/dev/null || true
  ip addr del "$NODE_IP/32" dev lo 2>/dev/null || true
  # Pods' network namespaces (containerd names them cni-*), however many times they are mounted.
  netns_mounts() { awk '$2 ~ "^/(var/)?run/netns/cni-" {print $2}' /proc/self/mounts | sort -ru; }
  netns_mounts | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  if [[ -n "$(netns_mounts)" ]]; then
    # Hidden under a later bind mount of /run/netns itself: lift that, then they can go.
    umount -l /run/netns 2>/dev/null || true
    netns_mounts | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  fi
  rm -f /run/netns/cni-* 2>/dev/null || true
  if [[ -f "$STATE/sysctls.saved" ]]; then
    while IFS='=' read -r key value; do [[ -n $value ]] && sysctl -qw "$key=$value" 2>/dev/null || true; done < "$STATE/sysctls.saved"
    rm -f "$STATE/sysctls.saved"
  fi
  if grep -qx "module br_netfilter" "$CREATED"; then modprobe -r br_netfilter 2>/dev/null || true; fi
  rm -f "$CREATED"
}

# ---------------------------------------------------------------------------------------------- processes
start() { # name command...
  local name=$1; shift
  "$@" > "$STATE/logs/$name.log" 2>&1 &
  echo $! > "$RUN/$name.pid"
}

running() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

stop() { # name
  local name=$1 pid
  [[ -f "$RUN/$name.pid" ]] || return 0
  pid=$(cat "$RUN/$name.pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

wait_for() { # what seconds command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what did not come up in ${seconds}s; see $STATE/logs/"
}

containerd_config() {
  mkdir -p "$STATE/containerd"
  cat > "$STATE/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$RUN/containerd"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # No CAP_SYS_RESOURCE in this VM: never ask for a lower OOM score than containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni"
EOF
}

kubelet_config() {
  cat > "$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$STATE/pki/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$STATE/pki/kubelet.crt"
tlsPrivateKeyFile: "$STATE/pki/kubelet.key"
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
oomScoreAdj: 0
resolvConf: /etc/resolv.conf
clusterDomain: cluster.local
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
}

pause_image() {
  local tar="$JUMPGATE_CACHE/images/pause-3.10.tar"
  if [[ ! -f $tar ]]; then
    log "building the pause image from Kubernetes' pause.c"
    local src work
    src="$(cd hack/kubernetes && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
    work=$(mktemp -d)
    gcc -Os -static -DVERSION=3.10 -o "$work/pause" "$src"
    strip "$work/pause"
    umoci init --layout "$work/oci" >/dev/null
    umoci new --image "$work/oci:3.10"
    umoci unpack --image "$work/oci:3.10" "$work/bundle" >/dev/null
    cp "$work/pause" "$work/bundle/rootfs/pause"
    umoci repack --image "$work/oci:3.10" "$work/bundle"
    umoci config --image "$work/oci:3.10" --config.entrypoint /pause --config.user 65535:65535 >/dev/null
    mkdir -p "$(dirname "$tar")"
    skopeo copy --quiet "oci:$work/oci:3.10" "docker-archive:$tar:$PAUSE_IMAGE"
    rm -rf "$work"
  fi
  import "$tar"
}

import() { # docker-archive tarball
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --no-unpack=false "$1" >/dev/null
}

up() {
  [[ $(id -u) -eq 0 ]] || die "needs root (network interfaces, iptables, containers)"
  # The runtime, the CNI plugins and what kube-proxy and the pause image need; runc and the plugins by the paths
  # the configurations below name.
  need containerd ctr /usr/sbin/runc /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/portmap \
    iptables iptables-save iptables-restore conntrack ip sysctl openssl curl gcc strip umoci skopeo pkill
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
