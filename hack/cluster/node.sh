# shellcheck shell=bash
# hack/cluster.sh, the node's processes (started and stopped by pid), containerd's and the kubelet's
# configuration, images. Sourced by hack/cluster.sh, which sets the variables it uses.

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
