#!/usr/bin/env bash
# Builds Kubernetes' binaries, etcd and helm from the modules pinned in go.mod here (one module, one build cache:
# helm and Kubernetes share the k8s.io libraries), into a cache outside the repo keyed by Kubernetes' version;
# prints the bin directory. A second run only checks that they are there.
#   hack/kubernetes/build.sh [binary ...]     (default: etcd and Kubernetes' six; helm when asked for)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$JUMPGATE_ROOT/hack/kubernetes"
need go
version="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"
bin="$JUMPGATE_CACHE/kubernetes/$version/bin"
wanted=("$@")
(( ${#wanted[@]} )) || wanted=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
missing=() packages=()
for b in "${wanted[@]}"; do
  [[ -x "$bin/$b" ]] && continue
  missing+=("$b")
  case "$b" in
    etcd) packages+=(go.etcd.io/etcd/server/v3) ;;     # builds as "server"; renamed below
    helm) packages+=(helm.sh/helm/v3/cmd/helm) ;;
    *) packages+=("k8s.io/kubernetes/cmd/$b") ;;
  esac
done
if (( ${#missing[@]} )); then
  echo "building ${missing[*]} (Kubernetes $version, from their Go modules; once, cached in $bin)" >&2
  minor="${version#v1.}"; minor="${minor%%.*}"
  k8s=k8s.io/component-base/version
  ldflags="-s -w -X $k8s.gitVersion=$version -X $k8s.gitMajor=1 -X $k8s.gitMinor=$minor -X $k8s.gitTreeState=clean"
  ldflags+=" -X helm.sh/helm/v3/internal/version.version=$(go list -m -f '{{.Version}}' helm.sh/helm/v3)"
  mkdir -p "$bin"
  # No DWARF (the binaries are stripped anyway) and a lazier compiler GC: about 15% off a cold build on 2 cores.
  GOGC=400 CGO_ENABLED=0 go build -trimpath -gcflags=all=-dwarf=false -ldflags "$ldflags" -o "$bin/" "${packages[@]}" >&2
  if [[ -x "$bin/server" ]]; then mv "$bin/server" "$bin/etcd"; fi
fi
echo "$bin"
