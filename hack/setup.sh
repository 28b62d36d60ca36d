#!/usr/bin/env bash
# Installs everything the project's scripts and tests run, on a Debian 12 machine that has Java 17, Maven and Go
# (README.md, Prerequisites), and nothing twice:
#   - the Debian packages hack/packages.txt names, those that are missing (apt-get; services are not started);
#   - helm, built from its Go module into ~/.cache/jumpgate (hack/kubernetes/build.sh, beside Kubernetes).
# Kubernetes and etcd are built by the scripts that run them (hack/kubernetes/build.sh), also cached.
#
#   hack/setup.sh           install what is missing
#   hack/setup.sh --check   (after installing what is missing, shfmt among it) fail if a script or test runs a
#                           command that is neither part of a base Debian 12 system
#                           nor installed here (hack/commands.py; CI runs it)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$JUMPGATE_ROOT"

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"

# The packages of hack/packages.txt (column 2 on, up to a comment), without the prerequisites.
mapfile -t packages < <(awk '!/^#/ && NF > 1 && $2 != "prerequisite" {
  for (i = 2; i <= NF && $i != "#"; i++) print $i }' hack/packages.txt | sort -u)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  # The project starts its own sshd, containerd and iperf3 when it needs them: the packages must not start the
  # system's. A policy-rc.d that is already there (container images have one) is left as it is.
  policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  [[ -z $policy ]] || $sudo rm -f "$policy"
  (( status == 0 )) || { echo "setup: apt-get install failed (status $status): is apt working on this machine?" >&2; exit 1; }
fi

if [[ ${1:-} == --check ]]; then
  exec python3 hack/commands.py
fi

need java mvn go
java_major="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
(( ${java_major%%.*} >= 17 )) || { echo "setup: Java $java_major found, 17 or newer is needed (README.md)" >&2; exit 1; }
$sudo mkdir -p /run/sshd   # sshd's privilege separation directory
hack/kubernetes/build.sh helm >/dev/null
echo "setup: done" >&2
