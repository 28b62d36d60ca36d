#!/usr/bin/env python3
"""Jumpgate's agent side by side with OpenSSH and autossh, through one stock OpenSSH sshd on loopback.

Each comparison runs its variants interleaved, round after round, and reports medians and the median of the
per-round ratios to OpenSSH. Run by bench/run.sh, which installs what is missing. The comparisons live beside this
file, one module each (speed, outages, failover, load, wan, check), on what rig.py (relay, forwarders, targets, processes)
and measure.py (measurements, interleaved rounds, ratios) provide.
"""
import argparse
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from check import run_check
from load import run_flood, run_stall
from measure import JIT_SETTLED_SHARE, MAX_WARMUP_ROUNDS, MIN_WARMUP_ROUNDS
from failover import run_failover
from heldlisten import run_held_listen
from outages import run_frozen, run_recovery, run_silent_drop
from rig import AGENT_JAVA, CIPHER, ROOT, Relay, stop_everything
from speed import run_speed
from wan import run_wan


def table(results):
    lines = [f"agent on Java {results['machine']['agent_java']}, {results['machine']['openssh']}"]

    def row(*cells):
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")

    for key, unit in (("throughput_to_target_mib_s", "MiB/s"), ("throughput_from_target_mib_s", "MiB/s"),
                      ("round_trip_p50_ms", "ms")):
        if key in results:
            lines.append(f"\n{key} ({unit}; ratio = median of per-round ratios, >1 is better than OpenSSH; after "
                         f"{results[key]['warmup_rounds']} unmeasured rounds while the agent's JIT compiled)")
            row("variant", "median", "ratio to openssh")
            row("---", "---", "---")
            for name, value in results[key]["median"].items():
                row(name, f"{value:.2f}", f"{results[key]['ratio_to_openssh'][name]:.2f}")
    if "new_connection_ms" in results:
        lines.append("\nnew connection + 64-byte echo + close (ms)")
        row("variant", "p50", "p99", "share over 30 ms")
        row("---", "---", "---", "---")
        for name, r in results["new_connection_ms"].items():
            row(name, f"{r['p50']:.2f}", f"{r['p99']:.2f}", f"{r['share_over_30ms']:.0%}")
    if "recovery_after_relay_returns_s" in results:
        lines.append("\nrecovery: seconds from the relay accepting again to a working connection through the forward")
        names = next(iter(results["recovery_after_relay_returns_s"].values())).keys()
        row("outage", *names)
        row("---", *["---"] * len(names))
        for outage, r in results["recovery_after_relay_returns_s"].items():
            row(outage, *[f"{r[n]:.2f}" for n in names])
    if "failover_s" in results:
        lines.append(f"\nfailover: seconds from the preferred relay's death to a working connection through the forward "
                     f"on the fallback relay (median of {results['failover_rounds']})")
        row(*results["failover_s"].keys())
        row(*["---"] * len(results["failover_s"]))
        row(*[f"{v:.2f}" for v in results["failover_s"].values()])
    for key, title in (("frozen_relay_noticed_s", "frozen relay (SIGSTOP)"), ("silent_drop_noticed_s", "silent drop (DROP)")):
        if key in results:
            lines.append(f"\n{title}, keepalive 2 s x 3: seconds until it is noticed")
            row(*results[key].keys())
            row(*["---"] * len(results[key]))
            row(*[f"{v:.2f}" for v in results[key].values()])
    if "held_listen_s" in results:
        h = results["held_listen_s"]
        lines.append(f"\nheld listen: the path to the relay cut for {h['cut_s']} s (DROP); the relay ({h['relay']}) holds "
                     f"the old session's listen until it finds it dead. Seconds to a working connection through the "
                     f"forward (median of {h['rounds']}; inf = not within the limit)")
        row("from", *h["after_relay_let_go"].keys())
        row("---", *["---"] * len(h["after_relay_let_go"]))
        row("the relay letting the old listen go", *[f"{v:.2f}" for v in h["after_relay_let_go"].values()])
        row("the path back", *[f"{v:.2f}" for v in h["after_path_back"].values()])
    if "flood" in results:
        lines.append(f"\nflood: connections opened and held into one forward; then a second forward's new connections")
        row("variant", "opened", "still served", "RSS MiB", "threads", "other forward p50 ms", "p99 ms")
        row(*["---"] * 7)
        for name, r in results["flood"].items():
            row(name, r["opened"], r["still_served"], f"{r['rss_mib']:.1f}", r["threads"],
                f"{r['other_forward_p50_ms']:.2f}", f"{r['other_forward_p99_ms']:.2f}")
    if "stall" in results:
        lines.append("\nstall: connections into one forward whose target stopped reading, pushed from the relay side; "
                     "then 200 round trips on a new connection of the same forward and of a second one (ms)")
        row("variant", "stalled", "RSS MiB", "same forward p50 / p99", "other forward p50 / p99", "same session")
        row("---", "---", "---", "---", "---", "---")
        for name, r in results["stall"].items():
            row(name, r["stalled"], f"{r['rss_mib']:.0f}", f"{r['same_forward_p50_ms']:.2f} / {r['same_forward_p99_ms']:.2f}",
                f"{r['other_forward_p50_ms']:.2f} / {r['other_forward_p99_ms']:.2f}", "yes" if r["same_session"] else "no")
    if "wan" in results:
        lines.append("\nthrough a delay line between forwarder and relay: bulk MiB/s at the receiver (ratio = median of "
                     "per-round ratios to openssh; line = iperf3 through the delay line alone)")
        row("one-way delay, direction", "line", "openssh", "jumpgate", "jumpgate / openssh", "warm-up rounds")
        row(*["---"] * 6)
        for key, r in results["wan"].items():
            m = r["median"]
            row(key.replace("_mib_s", "").replace("_", " "), f"{m['line']:.1f}", f"{m['openssh']:.2f}",
                f"{m['jumpgate']:.2f}", f"{r['ratio_to_openssh']['jumpgate']:.2f}", r["warmup_rounds"])
    if "check_cost" in results:
        c = results["check_cost"]
        lines.append(f"\nend-to-end check's cost: one check of one forward (jumpgate, SSH banner of a lab sshd, against "
                     f"the same agent with checks off) and one autossh -M poll (against ssh -N -R), every "
                     f"{c['interval_s']} s over {c['window_s']} s")
        row("variant", "checks", "bytes", "forwarder CPU ms", "relay CPU ms", "lab CPU ms")
        row(*["---"] * 6)
        for name in ("jumpgate_1_forwards", "jumpgate_10_forwards", "autossh_monitor"):
            r = c[name]
            row(name.replace("_", " "), r.get("checks", r.get("polls")), f"{r['bytes_per_check']:.0f}",
                f"{r['agent_cpu_ms_per_check']:.2f}", f"{r['relay_cpu_ms_per_check']:.2f}", f"{r['lab_cpu_ms_per_check']:.2f}")
    if "check_faults_noticed_s" in results:
        f = results["check_faults_noticed_s"]
        lines.append(f"\nfault -> noticed (s): agent checks every {f['agent_check_interval_s']} s, autossh -M "
                     f"polls every 600 s; inf = not within {f['limit_s']:.0f} s")
        row("fault", "jumpgate (forward unreachable)", "autossh -M (new ssh)")
        row("---", "---", "---")
        for fault, r in f.items():
            if isinstance(r, dict):
                row(fault.replace("_", " "), f"{r['jumpgate']:.1f}", f"{r['autossh']:.1f}")
    if "memory" in results:
        lines.append("\nmemory (RSS, MiB)")
        row("what", "MiB")
        row("---", "---")
        for name, value in results["memory"].items():
            row(name, f"{value:.1f}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3, help="iperf3 time per measurement")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--flood", type=int, default=2000, help="connections held into one forward (flood)")
    parser.add_argument("--stalled", type=int, default=200, help="connections into a target that stopped reading (stall)")
    parser.add_argument("--outages", type=float, nargs="*", default=[0.5, 5, 15])
    parser.add_argument("--delays", type=int, nargs="*", default=[0, 25, 50], help="one-way delays, ms (wan)")
    parser.add_argument("--recovery-rounds", type=int, default=3)
    parser.add_argument("--check-interval", type=int, default=5, help="check / AUTOSSH_POLL seconds (check cost)")
    parser.add_argument("--check-window", type=float, default=120, help="seconds the check's cost is measured over")
    parser.add_argument("--fault-check-interval", type=int, default=None,
                        help="the agent's check interval in the check faults (default: the product's, 30 s)")
    parser.add_argument("--fault-limit", type=float, default=700,
                        help="seconds each check fault is watched (autossh -M polls every 600 s)")
    parser.add_argument("--only", default="throughput,latency,recovery,failover,frozen,silent,held,memory,flood,stall,wan,check")
    parser.add_argument("--settle", type=float, default=10, help="seconds of quiet before each memory figure")
    parser.add_argument("--max-warmup", type=int, default=MAX_WARMUP_ROUNDS,
                        help="most unmeasured rounds per comparison while the agent's JIT compiles")
    parser.add_argument("--smoke", action="store_true",
                        help="CI's check that every comparison still runs: one short round each, figures not kept")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.seconds, args.connections, args.outages, args.recovery_rounds = 1, 1, 20, [0.5], 1
        args.settle, args.flood, args.stalled, args.delays, args.max_warmup = 0, 300, 20, [25], 1
        args.check_window, args.fault_check_interval, args.fault_limit = 10, 5, 30
        args.only = "throughput,latency,recovery,failover,frozen,memory,flood,stall,wan,check"
    args.only = set(args.only.split(","))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through the finally blocks below
    if args.only == {"controlplane"}:
        # No OpenSSH counterpart: the operator alone, on a real control plane.
        return subprocess.run([sys.executable, str(ROOT / "bench" / "controlplane.py")]).returncode
    if args.only == {"standby"}:
        # On the demo's cluster (hack/demo.sh): an agent with a standby pod, autossh beside it; the forwarder killed.
        return subprocess.run([sys.executable, str(ROOT / "bench" / "standby.py")]).returncode
    if args.only == {"pools"}:
        # On the demo's cluster (hack/demo.sh): 100 tunnels pooled and dedicated, ssh -N -R beside them.
        return subprocess.run([sys.executable, str(ROOT / "bench" / "pools.py")]).returncode

    # Thousands of sockets in the flood, on every side: the relay's sshd and the forwarders inherit this.
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    with tempfile.TemporaryDirectory(prefix="jumpgate-bench") as tmp:
        work = Path(tmp)
        key = work / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        relay = Relay(work, (work / "id_ed25519.pub").read_text())
        results = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                               "openssh": subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip(),
                               "agent_java": AGENT_JAVA},
                   "cipher": CIPHER, "rounds": args.rounds,
                   "warmup": {"min_rounds": MIN_WARMUP_ROUNDS, "max_rounds": args.max_warmup,
                              "jit_settled_share": JIT_SETTLED_SHARE}}
        try:
            if args.only & {"throughput", "latency", "memory"}:
                run_speed(args, work, relay, key, results)
            if "recovery" in args.only:
                run_recovery(args, work, relay, key, results)
            if "failover" in args.only:
                run_failover(args, work, relay, key, results)
            if "frozen" in args.only:
                run_frozen(args, work, relay, key, results)
            if "silent" in args.only:
                run_silent_drop(args, work, relay, key, results)
            if "held" in args.only:
                run_held_listen(args, work, key, results)
            if "flood" in args.only:
                run_flood(args, work, relay, key, results)
            if "stall" in args.only:
                run_stall(args, work, relay, key, results)
            if "wan" in args.only:
                run_wan(args, work, relay, key, results)
            if "check" in args.only:
                run_check(args, work, relay, key, results)
        finally:
            relay.kill()
            stop_everything()
    print(table(results))
    if not args.smoke:
        # A run of some comparisons (--only) updates theirs and keeps the figures of the others.
        path = ROOT / "bench" / "results.json"
        kept = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**kept, **results}, indent=2) + "\n")
        print("\nfigures: bench/results.json")


if __name__ == "__main__":
    sys.exit(main())
