"""
Measurements and how variants are compared: interleaved rounds, the agent's JIT warm-up, medians and ratios.
"""
import json
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path
from rig import echo_once


def seconds_until(checks, since, poll, limit=120):
    """For each named check, polled side by side: seconds from `since` until it first holds (inf if not in limit)."""
    found = {}

    def watch(name, check):
        while time.monotonic() - since < limit:
            if check():
                found[name] = time.monotonic() - since
                return
            time.sleep(poll)

    watchers = [threading.Thread(target=watch, args=item, daemon=True) for item in checks.items()]
    for w in watchers:
        w.start()
    for w in watchers:
        w.join()
    return {name: found.get(name, float("inf")) for name in checks}


def throughput(port, reverse, seconds):
    args = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J", "-O", "1"]
    if reverse:
        args.append("-R")
    for _ in range(10):
        out = json.loads(subprocess.run(args, capture_output=True, text=True).stdout or "{}")
        if "sum_received" in out.get("end", {}):
            return out["end"]["sum_received"]["bits_per_second"] / 8 / 2**20  # MiB/s
        time.sleep(0.5)  # iperf3's server runs one test at a time: the previous one may still be closing
    raise RuntimeError(f"iperf3 through port {port} failed: {out.get('error')}")


def connection_latencies(port, count):
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        echo_once(port)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def round_trips(port, count):
    samples = []
    with socket.create_connection(("127.0.0.1", port), 5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            start = time.perf_counter()
            s.sendall(b"ping")
            got = b""
            while len(got) < 4:
                got += s.recv(16)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def pct(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


MIN_WARMUP_ROUNDS = 2
MAX_WARMUP_ROUNDS = 12
# The JIT has settled when its compiler threads took less than this share of the JVM's CPU in the last warm-up round.
JIT_SETTLED_SHARE = 0.03


class JitActivity:
    """
    The share of a JVM's CPU its JIT compiler threads took since the last look (Linux names them "C2 CompilerThre",
    "C1 CompilerThre" in /proc/<pid>/task/*/comm). A tunnel that has run for a minute runs compiled code; an agent
    measured while C2 still compiles its data path is measured in its first seconds. On the 2-core machine C2 took a
    fifth of the agent's CPU for the first 20 s of bulk traffic and was done after about 50 s.
    """

    def __init__(self, pids):
        self.pids = pids
        self.last = self.ticks()

    def ticks(self):
        compiler = total = 0
        for pid in self.pids():
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    name = (task / "comm").read_text().strip()
                    fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                except (FileNotFoundError, ProcessLookupError):
                    continue
                used = int(fields[11]) + int(fields[12])
                total += used
                if "CompilerThre" in name:
                    compiler += used
        return compiler, total

    def settled(self):
        now = self.ticks()
        compiler, total = now[0] - self.last[0], now[1] - self.last[1]
        self.last = now
        return total > 0 and compiler / total < JIT_SETTLED_SHARE


def compare(rounds, variants, measure, jvms=(), max_warmup=MAX_WARMUP_ROUNDS):
    """
    variants: {name: port}; measure(port) -> number; jvms: the JitActivity of each JVM among the variants.
    Interleaved; returns ({name: [per-round values]}, warm-up rounds). Rounds of every variant are run and not counted
    until each JVM's JIT has settled (at least MIN_WARMUP_ROUNDS, at most max_warmup): what is measured is a
    tunnel that has run for a while, and ssh has nothing to warm. A fixed two rounds were not enough on 2 cores.
    """
    warmup = 0
    while warmup < max_warmup:
        for port in variants.values():
            measure(port)
        warmup += 1
        settled = [jvm.settled() for jvm in jvms]  # every JVM looked at each round, so each look covers one round
        if warmup >= min(MIN_WARMUP_ROUNDS, max_warmup) and all(settled):
            break
    values = {name: [] for name in variants}
    for _ in range(rounds):
        for name, port in variants.items():
            values[name].append(measure(port))
    return values, warmup


def ratios(values, against, higher_is_better):
    out = {}
    for name, series in values.items():
        per_round = [(v / b if higher_is_better else b / v) if v and b else float("nan")
                     for v, b in zip(series, values[against])]
        out[name] = statistics.median(per_round)
    return out


def summarize(values, higher_is_better, warmup):
    return {"median": {n: statistics.median(v) for n, v in values.items()},
            "ratio_to_openssh": ratios(values, "openssh", higher_is_better),
            "rounds": values, "warmup_rounds": warmup}
