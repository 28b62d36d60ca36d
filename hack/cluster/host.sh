# shellcheck shell=bash
# hack/cluster.sh, what it changes on the host (addresses, bridge, sysctls, module, iptables, mounts)
# and takes back at down. Sourced by hack/cluster.sh, which sets the variables it uses.

# The processes of every pod a kubelet runs here (cgroupfs: kubepods under each controller, or cgroup v2's root).
kubepods_processes() {
  local cg
  for cg in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice /sys/fs/cgroup/kubepods*; do
    [[ -d $cg ]] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
  return 0
}

# Our pods' processes: everything under the shims of our containerd (its socket is in their command line). A shim
# is its containers' subreaper, so whatever they started stays under it, and nothing of another runtime's is.
# (Anchored at the shim's own executable: a shell or watch whose command line quotes the pattern is not a shim.)
our_shims() { pgrep -f "^[^ ]*/containerd-shim[^ ]* .*-address $CONTAINERD_SOCK( |$)" || true; }
process_tree() { # pid...: the pids and all their descendants
  local pid
  for pid in "$@"; do
    echo "$pid"
    # shellcheck disable=SC2046
    process_tree $(ps -o pid= --ppid "$pid")
  done
}
our_pod_processes() {
  local shim
  for shim in $(our_shims); do
    # shellcheck disable=SC2046
    process_tree $(ps -o pid= --ppid "$shim")
  done
}

# Another Kubernetes on this host (its kube-proxy's chains, its kubelet's pods) would be torn down with ours: refuse.
refuse_foreign_cluster() {
  [[ -f "$CREATED" ]] && return  # leftovers of our own up, which down will take away
  local rules
  rules=$(iptables-save 2>/dev/null || true)  # read whole: grep -q would close the pipe early, and pipefail lie
  if grep -qE '^:(KUBE|CNI)-' <<< "$rules"; then
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
  # The pods' containers outlive containerd and its shims unless killed: ours go, then our shims. Processes another
  # kubelet's pods left in the kubepods cgroups are not ours (up refused to start beside a running one): left alone.
  for _ in 1 2 3 4 5; do  # again while a pod forks during the kill
    [[ -n "$(our_pod_processes)" ]] || break
    our_pod_processes | xargs -r kill -9 2>/dev/null || true
    sleep 0.2
  done
  our_shims | xargs -r kill -9 2>/dev/null || true
  sleep 0.2
  [[ -z "$(kubepods_processes)" ]] || log "processes remain in the kubepods cgroups, not under our containerd: left alone"
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
