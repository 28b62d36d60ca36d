#!/usr/bin/env bash
# Builds Kubernetes' binaries from the k8s.io/kubernetes Go module pinned in go.mod here, into a cache outside the
# repo keyed by version; prints the bin directory. A second run only checks that they are there.
#   hack/kubernetes/build.sh [binary ...]     (default: etcd and Kubernetes' six)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
bin="${JUMPGATE_CACHE:-$HOME/.cache/jumpgate}/kubernetes/$version/bin"
wanted=("$@")
(( ${#wanted[@]} )) || wanted=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
missing=()
for b in "${wanted[@]}"; do
  [[ -x "$bin/$b" ]] && continue
  if [[ $b == etcd ]]; then
    echo "building etcd $(cd "$here" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3) (once; cached in $bin)" >&2
    mkdir -p "$bin"
    (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3) >&2
  else
    missing+=("k8s.io/kubernetes/cmd/$b")
  fi
done
if (( ${#missing[@]} )); then
  echo "building Kubernetes $version: ${missing[*]##*/} (once; cached in $bin)" >&2
  minor="${version#v1.}"; minor="${minor%%.*}"
  pkg=k8s.io/component-base/version
  ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  mkdir -p "$bin"
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin/" "${missing[@]}") >&2
fi
echo "$bin"
