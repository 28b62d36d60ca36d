#!/usr/bin/env python3
"""Jumpgate's agent side by side with OpenSSH and autossh, through one stock OpenSSH sshd on loopback.

Each comparison runs its variants interleaved, round after round, and reports medians and the median of the
per-round ratios to OpenSSH. Run by bench/run.sh, which installs what is missing.
"""
import argparse
import json
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CIPHER = "aes128-gcm@openssh.com"
SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", f"Ciphers={CIPHER}", "-o", "Compression=no", "-o", "ExitOnForwardFailure=yes", "-o", "LogLevel=ERROR"]


def agent_java_home():
    """
    The runtime the agent runs on here: JUMPGATE_BENCH_JAVA_HOME, else the newest Java 24+ in /usr/lib/jvm (the
    image ships 25, where connections run on virtual threads), else the java on PATH. Returns (home or None, major).
    """
    def major(home):
        try:
            release = (Path(home) / "release").read_text()
        except OSError:
            return 0
        version = next((line.split("=", 1)[1].strip('"') for line in release.splitlines()
                        if line.startswith("JAVA_VERSION=")), "0")
        return int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0

    chosen = os.environ.get("JUMPGATE_BENCH_JAVA_HOME")
    if chosen:
        return chosen, major(chosen)
    homes = [(major(h), str(h)) for h in Path("/usr/lib/jvm").glob("*") if (h / "bin" / "java").exists()]
    virtual_thread_homes = [(m, h) for m, h in homes if m >= 24]
    if virtual_thread_homes:
        newest, home = max(virtual_thread_homes)
        return home, newest
    version = subprocess.run(["java", "-XshowSettings:properties", "-version"], capture_output=True, text=True).stderr
    spec = next((line.split("=")[1].strip() for line in version.splitlines() if "java.specification.version" in line), "0")
    return None, int(spec.split(".")[0])


AGENT_JAVA_HOME, AGENT_JAVA = agent_java_home()


# Every process the bench starts, so that any exit (a failed step, Ctrl-C, SIGTERM) stops it and what it started.
PROCESSES = []


def tracked(process):
    PROCESSES.append(process)
    return process


def stop_everything():
    for process in reversed(PROCESSES):
        if process.poll() is None:
            for pid in [process.pid] + descendants(process.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port, timeout=0.3):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout):
            return True
    except OSError:
        return False


def wait_until(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise RuntimeError(f"{what} not within {seconds}s")


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def descendants(pid):
    kids = children(pid)
    return kids + [d for k in kids for d in descendants(k)]


class Relay:
    """Debian's sshd on a free loopback port, key-only, the same cipher for everyone."""

    def __init__(self, work, authorized):
        self.work, self.port = work, free_port()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "host_ed25519")], check=True)
        (work / "authorized_keys").write_text(authorized)
        template = (ROOT / "hack" / "sshd_config.template").read_text().replace("{{DIR}}", str(work))
        (work / "relay.conf").write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", "AllowTcpForwarding yes",
            f"Ciphers {CIPHER}", "Compression no", "LogLevel ERROR", template]))
        self.process = None
        self.start()

    def host_key(self):
        return " ".join((self.work / "host_ed25519.pub").read_text().split()[:2])

    def start(self):
        Path("/run/sshd").mkdir(exist_ok=True)
        self.process = tracked(subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(self.work / "relay.conf")],
                                        stderr=subprocess.DEVNULL))
        wait_until(lambda: listening(self.port), 10, "relay sshd")

    def pids(self):
        return [self.process.pid] + descendants(self.process.pid)

    def sessions(self):
        """sshd's process for each connection to it: a new one means a forwarder connected again."""
        return set(children(self.process.pid))

    def kill(self):
        for pid in reversed(self.pids()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def signal_all(self, sig):
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


class Forwarder:
    """Something that holds `-R 127.0.0.1:port -> 127.0.0.1:target` on the relay."""
    name = "?"

    def __init__(self, work, relay, key, target):
        self.work, self.relay, self.key, self.target = work, relay, key, target
        self.port = free_port()
        self.second_port = free_port()  # a second forward to the same target, for those that hold one (flood)
        self.process = None

    def wait_bound(self, seconds=30):
        wait_until(lambda: listening(self.port), seconds, f"{self.name} forward")

    def pids(self):
        return [self.process.pid] + descendants(self.process.pid)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class OpenSsh(Forwarder):
    name = "openssh"

    def __init__(self, work, relay, key, target, extra=(), second=False):
        super().__init__(work, relay, key, target)
        more = ["-R", f"127.0.0.1:{self.second_port}:127.0.0.1:{target}"] if second else []
        self.process = tracked(subprocess.Popen(
            ["ssh", "-N", "-R", f"127.0.0.1:{self.port}:127.0.0.1:{target}", *more, "-i", str(key), "-p", str(relay.port),
             *SSH_OPTS, *extra, f"{os.environ.get('USER', 'root')}@127.0.0.1"], stderr=subprocess.DEVNULL))


class Autossh(Forwarder):
    """autossh as the classic recipe runs it (-M monitor port), or tuned with ServerAliveInterval and -M 0."""

    def __init__(self, work, relay, key, target, tuned, echo_port, poll=None):
        """poll: AUTOSSH_POLL, seconds between two monitor tests (None: autossh's default, 600)."""
        super().__init__(work, relay, key, target)
        self.name = "autossh-tuned" if tuned else "autossh"
        # -M port:echo_port: the monitor loops through the relay's echo service. The plain -M port would also ask
        # the relay to listen on that port, which on one loopback collides with the local end of the loop.
        monitor = ["-M", "0", "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=3"] if tuned \
            else ["-M", f"{free_port()}:{echo_port}"]
        env = dict(os.environ, AUTOSSH_GATETIME="0", **({"AUTOSSH_POLL": str(poll)} if poll else {}))
        self.process = tracked(subprocess.Popen(
            ["autossh", *monitor, "-N", "-R", f"127.0.0.1:{self.port}:127.0.0.1:{target}", "-i", str(key),
             "-p", str(relay.port), *SSH_OPTS, f"{os.environ.get('USER', 'root')}@127.0.0.1"],
            stderr=subprocess.DEVNULL, env=env))


class Jumpgate(Forwarder):
    name = "jumpgate"

    def __init__(self, work, relay, key, target, keepalive=(10, 3), second=False, max_connections=None,
                 forwards=1, check=None, check_interval=None):
        """
        forwards: how many forwards to `target` (bench, bench-2, ...; their listen ports in self.ports); check: each
        forward's end-to-end check mode (None: the default, Auto); check_interval: spec.check.intervalSeconds.
        """
        super().__init__(work, relay, key, target)
        self.ports = [self.port] + [free_port() for _ in range(forwards - 1)]
        self.forwards = ["bench"] + [f"bench-{i}" for i in range(2, forwards + 1)]
        more = (f"    - {{name: other, remote: {{bindAddress: 127.0.0.1, port: {self.second_port}}}, "
                f"target: {{host: 127.0.0.1, port: {target}}}}}\n") if second else ""
        cap = f", maxConnections: {max_connections}" if max_connections else ""
        mode = f", check: {check}" if check else ""
        forward_lines = "".join(
            f"    - {{name: {name}, remote: {{bindAddress: 127.0.0.1, port: {port}}}, "
            f"target: {{host: 127.0.0.1, port: {target}}}{cap}{mode}}}\n" for name, port in zip(self.forwards, self.ports))
        check_spec = f"  check: {{intervalSeconds: {check_interval}}}\n" if check_interval else ""
        self.http = free_port()
        spec = work / f"tunnel-{self.port}.yaml"
        spec.write_text(f"""apiVersion: jumpgate.dev/v1alpha1
kind: ReverseTunnel
metadata: {{name: bench}}
spec:
  relay: {{host: 127.0.0.1, port: {relay.port}, user: {os.environ.get('USER', 'root')}, hostKeys: ["{relay.host_key()}"]}}
  forwards:
{forward_lines}{more}  keepalive: {{intervalSeconds: {keepalive[0]}, countMax: {keepalive[1]}}}
{check_spec}""")
        env = dict(os.environ, JUMPGATE_HTTP_PORT=str(self.http))
        if AGENT_JAVA_HOME:
            env["JAVA_HOME"] = AGENT_JAVA_HOME
        # The agent's log, kept when JUMPGATE_BENCH_AGENT_LOG names a file.
        log = open(os.environ.get("JUMPGATE_BENCH_AGENT_LOG", os.devnull), "a")
        self.process = tracked(subprocess.Popen([str(ROOT / "bin" / "jumpgate"), "agent", "--file", str(spec),
                                         "--identity", str(key)], stdout=log, stderr=log, env=env))

    def ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/q/health/ready", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def metrics(self):
        """The agent's /q/metrics as {'name{labels}': value}; empty while it does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/q/metrics", timeout=2) as r:
                text = r.read().decode()
        except OSError:
            return {}
        samples = (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
        return {name.replace(",}", "}"): float(value) for name, value in samples}  # simpleclient writes {a="b",}

    def checks_passed(self):
        return sum(v for k, v in self.metrics().items()
                   if k.startswith("jumpgate_agent_forward_checks_total{") and 'result="passed"' in k)

    def all_reachable(self):
        """Every forward's last end-to-end check passed (the metric is NaN while unbound or before a check)."""
        m = self.metrics()
        return all(m.get(f'jumpgate_agent_forward_reachable{{forward="{f}"}}') == 1 for f in self.forwards)


class Direct:
    name = "direct"

    def __init__(self, target):
        self.port = target

    def stop(self):
        pass


class EchoServer:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.echo, args=(conn,), daemon=True).start()

    @staticmethod
    def echo(conn):
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)


def echo_once(port, payload=b"x" * 64, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(65536)
            if not chunk:
                raise OSError("closed")
            got += chunk
    return got == payload


def echoes(port):
    try:
        return echo_once(port, timeout=1)
    except OSError:
        return False


def seconds_until(checks, since, poll, limit=120):
    """For each named check, polled side by side: seconds from `since` until it first holds (inf if not in limit)."""
    found = {}

    def watch(name, check):
        while time.monotonic() - since < limit:
            if check():
                found[name] = time.monotonic() - since
                return
            time.sleep(poll)

    watchers = [threading.Thread(target=watch, args=item) for item in checks.items()]
    for w in watchers:
        w.start()
    for w in watchers:
        w.join()
    return {name: found.get(name, float("inf")) for name in checks}


# ------------------------------------------------------------------------------------------------ measurements

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


# ------------------------------------------------------------------------------------------------ comparisons

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


def run_speed(args, work, relay, key, results):
    iperf = free_port()
    server = tracked(subprocess.Popen(["iperf3", "-s", "-p", str(iperf)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    echo = EchoServer()
    try:
        wait_until(lambda: listening(iperf), 10, "iperf3 server")
        forwarders = [OpenSsh(work, relay, key, iperf), Jumpgate(work, relay, key, iperf)]
        echo_forwarders = [OpenSsh(work, relay, key, echo.port), Jumpgate(work, relay, key, echo.port)]
        for f in forwarders + echo_forwarders:
            f.wait_bound()
        jumpgate = forwarders[1]
        # The memory of an agent that runs, not of its start or of a burst just gone: measured after a quiet while.
        time.sleep(args.settle)
        results["memory"] = {"jumpgate_idle_rss_mib": rss_kib(jumpgate.pids()) / 1024}
        if "throughput" in args.only:
            ports = {"direct": iperf, **{f.name: f.port for f in forwarders}}
            for direction, reverse in (("to_target", False), ("from_target", True)):
                values, warmup = compare(args.rounds, ports, lambda p: throughput(p, reverse, args.seconds),
                                         [JitActivity(jumpgate.pids)], args.max_warmup)
                results[f"throughput_{direction}_mib_s"] = summarize(values, higher_is_better=True, warmup=warmup)
            time.sleep(args.settle)
            results["memory"]["jumpgate_loaded_rss_mib"] = rss_kib(jumpgate.pids()) / 1024
        if "latency" in args.only:
            ports = {"direct": echo.port, **{f.name: f.port for f in echo_forwarders}}
            per_variant = {n: [] for n in ports}
            for _ in range(args.rounds):
                for name, port in ports.items():
                    per_variant[name].append(connection_latencies(port, args.connections))
            results["new_connection_ms"] = {name: {
                "p50": statistics.median(pct(r, 50) for r in runs),
                "p99": statistics.median(pct(r, 99) for r in runs),
                "share_over_30ms": statistics.median(sum(1 for x in r if x > 30) / len(r) for r in runs),
            } for name, runs in per_variant.items()}
            rt, warmup = compare(args.rounds, ports, lambda p: pct(round_trips(p, 300), 50),
                                 [JitActivity(echo_forwarders[1].pids)], args.max_warmup)
            results["round_trip_p50_ms"] = summarize(rt, higher_is_better=False, warmup=warmup)
        if "memory" in args.only:
            ssh = OpenSsh(work, relay, key, echo.port)
            auto = Autossh(work, relay, key, echo.port, tuned=False, echo_port=echo.port)
            ssh.wait_bound()
            auto.wait_bound()
            results["memory"]["openssh_rss_mib"] = rss_kib(ssh.pids()) / 1024
            results["memory"]["autossh_plus_ssh_rss_mib"] = rss_kib(auto.pids()) / 1024
            ssh.stop()
            auto.stop()
        for f in forwarders + echo_forwarders:
            f.stop()
    finally:
        server.kill()


class DelayLine:
    """bench/DelayLine.java: a TCP proxy on loopback that delays each byte by a fixed time each way (no netem here)."""

    def __init__(self, target, delay_ms):
        self.port = free_port()
        self.process = tracked(subprocess.Popen(["java", str(ROOT / "bench" / "DelayLine.java"), str(self.port), str(target),
                                         str(delay_ms)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_until(lambda: listening(self.port), 30, "delay line")

    def stop(self):
        self.process.kill()
        self.process.wait()


class Via:
    """The relay as a forwarder sees it through a delay line: the line's port, the relay's host key."""

    def __init__(self, relay, line):
        self.port = line.port
        self.host_key = relay.host_key


def run_wan(args, work, relay, key, results):
    """
    Bulk TCP through one forward with a delay line between forwarder and relay (one-way delays of args.delays ms),
    both ways, jumpgate against ssh -N -R, interleaved rounds. "line" is iperf3 through the delay line alone (no SSH):
    the line must carry far more than the forwarders, or it is what is measured.
    """
    iperf = free_port()
    server = tracked(subprocess.Popen(["iperf3", "-s", "-p", str(iperf)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    out = {}
    try:
        wait_until(lambda: listening(iperf), 10, "iperf3 server")
        for delay in args.delays:
            to_relay = DelayLine(relay.port, delay)
            alone = DelayLine(iperf, delay)
            forwarders = [OpenSsh(work, Via(relay, to_relay), key, iperf), Jumpgate(work, Via(relay, to_relay), key, iperf)]
            try:
                for f in forwarders:
                    f.wait_bound(60)
                ports = {"line": alone.port, **{f.name: f.port for f in forwarders}}
                for direction, reverse in (("relay_to_target", False), ("target_to_relay", True)):
                    values, warmup = compare(args.rounds, ports, lambda p: throughput(p, reverse, args.seconds),
                                             [JitActivity(forwarders[1].pids)], args.max_warmup)
                    out[f"{delay}ms_{direction}_mib_s"] = summarize(values, higher_is_better=True, warmup=warmup)
            finally:
                for f in forwarders:
                    f.stop()
                to_relay.stop()
                alone.stop()
    finally:
        server.kill()
    results["wan"] = out


def summarize(values, higher_is_better, warmup):
    return {"median": {n: statistics.median(v) for n, v in values.items()},
            "ratio_to_openssh": ratios(values, "openssh", higher_is_better),
            "rounds": values, "warmup_rounds": warmup}


def run_recovery(args, work, relay, key, results):
    """Kill the relay, bring it back after an outage; time until a new connection through each forward works."""
    echo = EchoServer()
    outcome = {}
    for outage in args.outages:
        times = {}
        for _ in range(args.recovery_rounds):
            variants = [Jumpgate(work, relay, key, echo.port),
                        Autossh(work, relay, key, echo.port, tuned=False, echo_port=echo.port),
                        Autossh(work, relay, key, echo.port, tuned=True, echo_port=echo.port)]
            for v in variants:
                v.wait_bound()
            relay.kill()
            time.sleep(outage)
            relay.start()
            recovered = seconds_until({v.name: (lambda port=v.port: echoes(port)) for v in variants},
                                      since=time.monotonic(), poll=0.02)
            for v in variants:
                times.setdefault(v.name, []).append(recovered[v.name])
                v.stop()
        outcome[f"{outage}s"] = {name: statistics.median(series) for name, series in times.items()}
    results["recovery_after_relay_returns_s"] = outcome


def run_frozen(args, work, relay, key, results):
    """SIGSTOP the relay and its sessions: nothing is closed, nothing answers. Time until each side notices, with the
    same keepalive (2 s x 3): the agent's readiness going down, ssh -N -R (ServerAliveInterval) exiting."""
    results["frozen_relay_noticed_s"] = noticed_silence(args, work, relay, key,
                                                        lambda: relay.signal_all(signal.SIGSTOP),
                                                        lambda: relay.signal_all(signal.SIGCONT))


def run_silent_drop(args, work, relay, key, results):
    """Every packet to and from the relay's port dropped (iptables, needs root), as a dead route would: the same
    measure as a frozen relay."""
    rules = [["-p", "tcp", "--dport", str(relay.port), "-j", "DROP"], ["-p", "tcp", "--sport", str(relay.port), "-j", "DROP"]]

    def drop():
        for rule in rules:
            subprocess.run(["iptables", "-I", "INPUT", *rule], check=True)

    def restore():
        for rule in rules:
            subprocess.run(["iptables", "-D", "INPUT", *rule], check=False)

    results["silent_drop_noticed_s"] = noticed_silence(args, work, relay, key, drop, restore)


def noticed_silence(args, work, relay, key, silence, restore):
    echo = EchoServer()
    times = {"jumpgate": [], "openssh": []}
    for _ in range(args.recovery_rounds):
        agent = Jumpgate(work, relay, key, echo.port, keepalive=(2, 3))
        ssh = OpenSsh(work, relay, key, echo.port, extra=["-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax=3"])
        agent.wait_bound()
        ssh.wait_bound()
        wait_until(agent.ready, 30, "agent ready")
        silence()
        noticed = seconds_until({"jumpgate": lambda: not agent.ready(),
                                 "openssh": lambda: ssh.process.poll() is not None},
                                since=time.monotonic(), poll=0.05)
        restore()
        for name in times:
            times[name].append(noticed[name])
        agent.stop()
        ssh.stop()
    return {name: statistics.median(series) for name, series in times.items()}


def threads(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
        except (OSError, StopIteration):
            pass
    return total


def run_flood(args, work, relay, key, results):
    """
    A flood into one public forward: args.flood connections opened and held through it, as an attacker would; then
    the forwarder's memory and threads, how many connections it still holds, and new connections through a second
    forward of the same forwarder (connect, echo, close), which the flood must not slow down. The agent's forward
    has its maxConnections raised to the flood's size: what is measured is what holding them costs (the default cap
    of 1000 would refuse half of 2000).
    """
    echo = EchoServer()
    out = {}
    for make in (lambda: Jumpgate(work, relay, key, echo.port, second=True, max_connections=args.flood),
                 lambda: OpenSsh(work, relay, key, echo.port, second=True)):
        forwarder = make()
        forwarder.wait_bound()
        wait_until(lambda: listening(forwarder.second_port), 30, "second forward")
        held = []
        try:
            for _ in range(args.flood):
                try:
                    s = socket.create_connection(("127.0.0.1", forwarder.port), 5)
                    s.sendall(b"x")
                    held.append(s)
                except OSError:
                    break
            time.sleep(args.settle)  # the flood in place, the forwarder at rest under it
            alive = 0
            for s in held:
                try:
                    s.settimeout(2)
                    s.sendall(b"y")
                    alive += 1 if s.recv(16) else 0
                except OSError:
                    pass
            latencies = connection_latencies(forwarder.second_port, 100)
            out[forwarder.name] = {"opened": len(held), "still_served": alive,
                                   "rss_mib": rss_kib(forwarder.pids()) / 1024, "threads": threads(forwarder.pids()),
                                   "other_forward_p50_ms": pct(latencies, 50), "other_forward_p99_ms": pct(latencies, 99)}
        finally:
            for s in held:
                s.close()
            forwarder.stop()
    results["flood"] = out


class StallingEchoServer(EchoServer):
    """Echoes, except on connections whose first byte is b"S": those it reads no further, as a paused process would."""

    def __init__(self):
        self.release = threading.Event()
        super().__init__()

    def echo(self, conn):
        with conn:
            first = conn.recv(1)
            if first == b"S":
                self.release.wait()
                return
            conn.sendall(first)
            while data := conn.recv(65536):
                conn.sendall(data)


def push_forever(s):
    chunk = b"z" * 65536
    try:
        while True:
            s.sendall(chunk)
    except OSError:
        pass  # closed at the end


def run_stall(args, work, relay, key, results):
    """
    Head-of-line blocking: args.stalled connections into one forward whose target stops reading, each pushed from
    the relay side for as long as it takes; then round trips on a new connection of the same forward and of a second
    forward of the same forwarder, the forwarder's memory, and whether its session is still the first one.
    """
    target = StallingEchoServer()
    out = {}
    for make in (lambda: Jumpgate(work, relay, key, target.port, second=True),
                 lambda: OpenSsh(work, relay, key, target.port, second=True)):
        forwarder = make()
        forwarder.wait_bound()
        wait_until(lambda: listening(forwarder.second_port), 30, "second forward")
        sessions = relay.sessions()
        held = []
        try:
            for _ in range(args.stalled):
                s = socket.create_connection(("127.0.0.1", forwarder.port), 5)
                s.sendall(b"S")
                held.append(s)
                threading.Thread(target=push_forever, args=(s,), daemon=True).start()
            # Until the forwarder holds all it will: its memory still for two seconds.
            last, still_since = -1, time.monotonic()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and time.monotonic() - still_since < 2:
                rss = rss_kib(forwarder.pids())
                if abs(rss - last) > 1024:
                    last, still_since = rss, time.monotonic()
                time.sleep(0.25)
            r = {"stalled": len(held), "rss_mib": rss_kib(forwarder.pids()) / 1024}
            for name, port in (("same_forward", forwarder.port), ("other_forward", forwarder.second_port)):
                try:
                    samples = round_trips(port, 200)
                    r[f"{name}_p50_ms"], r[f"{name}_p99_ms"] = pct(samples, 50), pct(samples, 99)
                except OSError:
                    r[f"{name}_p50_ms"] = r[f"{name}_p99_ms"] = float("inf")  # no answer within the timeout
            r["same_session"] = relay.sessions() == sessions and forwarder.process.poll() is None
            out[forwarder.name] = r
        finally:
            for s in held:
                s.close()
            forwarder.stop()
    target.release.set()
    results["stall"] = out


def cpu_seconds(pids, reaped=False):
    """CPU time of the processes (user + system), with that of their children already gone when `reaped`."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if reaped else 0)
    return total / os.sysconf("SC_CLK_TCK")


def bytes_to_relay(pids, relay_port):
    """Bytes sent plus received on the processes' TCP connections to the relay's port (ss -ti), both ways."""
    out = subprocess.run(["ss", "-tinpH", "state", "established", f"( dport = :{relay_port} )"],
                         capture_output=True, text=True).stdout.splitlines()
    total = 0
    for head, info in zip(out[::2], out[1::2]):
        if any(f"pid={pid}," in head for pid in pids):
            fields = dict(f.split(":", 1) for f in info.split() if f.startswith(("bytes_sent:", "bytes_received:")))
            total += int(fields.get("bytes_sent", 0)) + int(fields.get("bytes_received", 0))
    return total


def started_with_session(relay, make):
    """Starts a forwarder and returns it with its session's processes on the relay (new sshd children)."""
    before = relay.sessions()
    forwarder = make()
    forwarder.wait_bound(60)
    wait_until(lambda: relay.sessions() - before, 30, f"{forwarder.name}'s session on the relay")
    session = relay.sessions() - before
    return forwarder, lambda: [p for s in session for p in [s] + descendants(s)]


def lab_sshd(work, name):
    """A stock sshd standing in for the lab machine behind the forward: the SSH-banner checks read its banner."""
    (work / name).mkdir()
    return Relay(work / name, "")


def run_check(args, work, relay, key, results):
    """
    The end-to-end check (issue 11) against autossh -M, whose monitor loops test data through the session only.
    cost: over one window side by side, the agent with 1 and with 10 forwards into a lab sshd (SSH-banner checks every
    args.check_interval s), each against the same agent with checks off; autossh -M polling at the same interval
    against plain ssh -N -R. Per check (per poll for autossh): bytes on the connection to the relay, CPU of the
    forwarder, of its session on the relay, and of the lab's sshd.
    faults: each tool with its defaults (agent: check every 30 s, timeout 10 s, keepalive 10 s x 3; autossh -M:
    AUTOSSH_POLL 600 s); three faults at once on three pairs: the lab's sshd stopped, the relay's listen firewalled
    (iptables DROP, root), the session on the relay frozen (SIGSTOP). Seconds until the agent's forward is reported
    unreachable, until autossh starts a new ssh. autossh has no per-forward verdict: a new ssh is all it can do.
    """
    echo = EchoServer()  # autossh's monitor loops through it on the relay's side
    lab = lab_sshd(work, "lab")
    started = []
    try:
        results["check_cost"] = check_cost(args, work, relay, key, lab, echo, started)
        for f in started:
            f.stop()
        started.clear()
        results["check_faults_noticed_s"] = check_faults(args, work, relay, key, lab, echo, started)
    finally:
        for f in started:
            f.stop()
        lab.kill()


def check_cost(args, work, relay, key, lab, echo, started):
    interval = args.check_interval
    makers = {
        "jumpgate_1": lambda: Jumpgate(work, relay, key, lab.port, check="SSHBanner", check_interval=interval),
        "jumpgate_1_off": lambda: Jumpgate(work, relay, key, lab.port, check="Off"),
        "jumpgate_10": lambda: Jumpgate(work, relay, key, lab.port, forwards=10, check="SSHBanner",
                                        check_interval=interval),
        "jumpgate_10_off": lambda: Jumpgate(work, relay, key, lab.port, forwards=10, check="Off"),
        "autossh": lambda: Autossh(work, relay, key, lab.port, tuned=False, echo_port=echo.port, poll=interval),
        "openssh": lambda: OpenSsh(work, relay, key, lab.port),
    }
    sessions = {}
    forwarders = {}
    for name, make in makers.items():
        forwarders[name], sessions[name] = started_with_session(relay, make)
        started.append(forwarders[name])
    for name in ("jumpgate_1", "jumpgate_10"):
        wait_until(forwarders[name].all_reachable, 60, f"{name}'s first checks")
    time.sleep(args.settle)  # past the JVMs' start, their JIT and the first checks

    def snapshot():
        return {name: {"bytes": bytes_to_relay(f.pids(), relay.port), "cpu_s": cpu_seconds(f.pids()),
                       # not reaped: the agent's once-a-session key check runs a shell there (the user's rc files)
                       "relay_cpu_s": cpu_seconds(sessions[name]()),
                       "checks": f.checks_passed() if isinstance(f, Jumpgate) else 0}
                for name, f in forwarders.items()} | {"lab_cpu_s": cpu_seconds([lab.process.pid], reaped=True)}

    before, start = snapshot(), time.monotonic()
    time.sleep(args.check_window)
    after, window = snapshot(), time.monotonic() - start
    used = {name: {k: after[name][k] - before[name][k] for k in before[name]} for name in forwarders}
    lab_cpu = after["lab_cpu_s"] - before["lab_cpu_s"]
    out = {"interval_s": interval, "window_s": round(window, 1), "raw": used}
    all_checks = used["jumpgate_1"]["checks"] + used["jumpgate_10"]["checks"]
    for n in ("1", "10"):
        on, off = used[f"jumpgate_{n}"], used[f"jumpgate_{n}_off"]
        checks = max(on["checks"], 1)
        out[f"jumpgate_{n}_forwards"] = {
            "checks": on["checks"],
            "bytes_per_check": (on["bytes"] - off["bytes"]) / checks,
            "agent_cpu_ms_per_check": 1000 * (on["cpu_s"] - off["cpu_s"]) / checks,
            "relay_cpu_ms_per_check": 1000 * (on["relay_cpu_s"] - off["relay_cpu_s"]) / checks,
            "lab_cpu_ms_per_check": 1000 * lab_cpu / max(all_checks, 1)}
    polls = window / interval
    auto, plain = used["autossh"], used["openssh"]
    out["autossh_monitor"] = {
        "polls": round(polls, 1),
        "bytes_per_check": (auto["bytes"] - plain["bytes"]) / polls,
        "agent_cpu_ms_per_check": 1000 * (auto["cpu_s"] - plain["cpu_s"]) / polls,
        "relay_cpu_ms_per_check": 1000 * (auto["relay_cpu_s"] - plain["relay_cpu_s"]) / polls,
        "lab_cpu_ms_per_check": 0.0}
    return out


def check_faults(args, work, relay, key, lab, echo, started):
    own_lab = lab_sshd(work, "lab-stopped")
    interval = args.fault_check_interval
    pairs = {}
    try:
        for fault, target in (("target_stopped", own_lab), ("listen_firewalled", lab), ("session_frozen", lab)):
            agent, agent_session = started_with_session(relay, lambda: Jumpgate(
                work, relay, key, target.port, check="SSHBanner", check_interval=interval))
            started.append(agent)
            auto, auto_session = started_with_session(relay, lambda: Autossh(
                work, relay, key, target.port, tuned=False, echo_port=echo.port))
            started.append(auto)
            pairs[fault] = (agent, agent_session, auto, auto_session)
        for agent, _, _, _ in pairs.values():
            wait_until(agent.all_reachable, 90, "the agents' first checks")
        ssh_of = {fault: set(children(auto.process.pid)) for fault, (_, _, auto, _) in pairs.items()}
        agent, _, auto, _ = pairs["listen_firewalled"]
        firewall = [["-p", "tcp", "--dport", str(f.port), "-j", "DROP"] for f in (agent, auto)]
        frozen = pairs["session_frozen"][1]() + pairs["session_frozen"][3]()
        try:
            own_lab.kill()
            for rule in firewall:
                subprocess.run(["iptables", "-I", "INPUT", *rule], check=True)
            for pid in frozen:
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    pass  # a short-lived child of the session (the key check's shell) already gone
            watched = {}
            for fault, (agent, _, auto, _) in pairs.items():
                watched[f"{fault}/jumpgate"] = lambda agent=agent: not agent.all_reachable()
                watched[f"{fault}/autossh"] = lambda auto=auto, fault=fault: \
                    auto.process.poll() is not None or set(children(auto.process.pid)) != ssh_of[fault]
            noticed = seconds_until(watched, since=time.monotonic(), poll=0.2, limit=args.fault_limit)
        finally:
            for pid in frozen:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            for rule in firewall:
                subprocess.run(["iptables", "-D", "INPUT", *rule], check=False)
    finally:
        own_lab.kill()
    return {"limit_s": args.fault_limit, "agent_check_interval_s": interval or 30,
            **{fault: {tool: noticed[f"{fault}/{tool}"] for tool in ("jumpgate", "autossh")} for fault in pairs}}


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
    for key, title in (("frozen_relay_noticed_s", "frozen relay (SIGSTOP)"), ("silent_drop_noticed_s", "silent drop (DROP)")):
        if key in results:
            lines.append(f"\n{title}, keepalive 2 s x 3: seconds until it is noticed")
            row(*results[key].keys())
            row(*["---"] * len(results[key]))
            row(*[f"{v:.2f}" for v in results[key].values()])
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
    parser.add_argument("--only", default="throughput,latency,recovery,frozen,silent,memory,flood,stall,wan,check")
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
        args.only = "throughput,latency,recovery,frozen,memory,flood,stall,wan,check"
    args.only = set(args.only.split(","))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through the finally blocks below
    if args.only == {"controlplane"}:
        # No OpenSSH counterpart: the operator alone, on a real control plane.
        return subprocess.run([sys.executable, str(ROOT / "bench" / "controlplane.py")]).returncode

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
            if "frozen" in args.only:
                run_frozen(args, work, relay, key, results)
            if "silent" in args.only:
                run_silent_drop(args, work, relay, key, results)
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
        (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        print("\nfigures: bench/results.json")


if __name__ == "__main__":
    sys.exit(main())
