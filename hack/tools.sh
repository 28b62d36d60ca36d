#!/usr/bin/env bash
# Builds the tools the tests and the demo need that Debian does not package, from their Go modules, into a cache
# outside the repo keyed by version: a second run takes no time. Prints the path of each tool it was asked for.
#   hack/tools.sh helm
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HELM_VERSION="v3.22.0"

build_helm() {
  local out="$JUMPGATE_CACHE/helm/$HELM_VERSION/helm"
  if [[ ! -x "$out" ]]; then
    need go
    echo "building helm $HELM_VERSION from its Go module (once; cached in $JUMPGATE_CACHE)" >&2
    mkdir -p "$(dirname "$out")"
    GOBIN="$(dirname "$out")" GOFLAGS=-mod=mod CGO_ENABLED=0 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  fi
  echo "$out"
}

for tool in "$@"; do
  case "$tool" in
    helm) build_helm ;;
    *) echo "unknown tool: $tool" >&2; exit 2 ;;
  esac
done
