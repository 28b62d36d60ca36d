#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine, and nothing twice:
#   Debian's OpenSSH server and client (the real relay the tests start), python3 (the demo), and helm;
#   etcd and Kubernetes are built by hack/test.sh (hack/kubernetes/build.sh), all from Go modules, cached.
# Java 17 and Maven, and Go for helm, are expected on the machine (see README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"

packages=(openssh-server openssh-client python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  # policy-rc.d: the tests start their own sshd; the package must not start the system one.
  echo -e '#!/bin/sh\nexit 101' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  $sudo rm -f /usr/sbin/policy-rc.d
fi
$sudo mkdir -p /run/sshd   # sshd's privilege separation directory

for tool in java mvn go; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is not installed (see README.md)" >&2; exit 1; }
done
hack/tools.sh helm >/dev/null
echo "setup done"
