#!/usr/bin/env bash
# Benchmarks, side by side in one run: the Jumpgate agent against OpenSSH's `ssh -N -R` (as autossh runs it) and
# a direct loopback connection, through a stock OpenSSH sshd on loopback, same cipher (aes128-gcm@openssh.com),
# compression off. Interleaved rounds (A B C A B C ...), medians and the median of per-round ratios.
# Prints a table and writes bench/results.json. Not part of the test command (see BENCHMARKS.md).
#   bench/run.sh [--rounds N] [--only throughput,latency,recovery,failover,frozen,silent,held,memory,flood,stall,wan,check] [--smoke]
# (--smoke: one short round of each, for CI; --only controlplane: the operator at scale, root;
#  --only pools: 100 tunnels pooled and dedicated on the demo's cluster, root, after hack/demo.sh;
#  --only standby: the forwarder killed, an agent with a standby pod against autossh, on the demo's cluster likewise)
# (silent, held and check insert iptables DROP rules while they measure: run them as root)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../hack/lib.sh"
cd "$JUMPGATE_ROOT"
hack/setup.sh >/dev/null   # iperf3 and autossh come with the rest (hack/packages.txt)
need python3 iperf3 autossh ssh /usr/sbin/sshd ss
[[ -f target/quarkus-app/quarkus-run.jar ]] || mvn -B -q -ntp package -DskipTests
exec python3 bench/bench.py "$@"
