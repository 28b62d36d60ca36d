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
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "relay_host")], check=True)
        (work / "relay_keys").write_text(authorized)
        (work / "relay.conf").write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {work / 'relay_host'}", "PidFile none",
            f"AuthorizedKeysFile {work / 'relay_keys'}", "StrictModes no", "UsePAM no", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "AllowTcpForwarding yes",
            f"Ciphers {CIPHER}", "Compression no", "LogLevel ERROR", ""]))
        self.process = None
        self.start()

    def host_key(self):
        return " ".join((self.work / "relay_host.pub").read_text().split()[:2])

    def start(self):
        Path("/run/sshd").mkdir(exist_ok=True)
        self.process = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(self.work / "relay.conf")],
                                        stderr=subprocess.DEVNULL)
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
        self.process = subprocess.Popen(
            ["ssh", "-N", "-R", f"127.0.0.1:{self.port}:127.0.0.1:{target}", *more, "-i", str(key), "-p", str(relay.port),
             *SSH_OPTS, *extra, f"{os.environ.get('USER', 'root')}@127.0.0.1"], stderr=subprocess.DEVNULL)


class Autossh(Forwarder):
    """autossh as the classic recipe runs it (-M monitor port), or tuned with ServerAliveInterval and -M 0."""

    def __init__(self, work, relay, key, target, tuned, echo_port):
        super().__init__(work, relay, key, target)
        self.name = "autossh-tuned" if tuned else "autossh"
        # -M port:echo_port: the monitor loops through the relay's echo service. The plain -M port would also ask
        # the relay to listen on that port, which on one loopback collides with the local end of the loop.
        monitor = ["-M", "0", "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=3"] if tuned \
            else ["-M", f"{free_port()}:{echo_port}"]
        env = dict(os.environ, AUTOSSH_GATETIME="0")
        self.process = subprocess.Popen(
            ["autossh", *monitor, "-N", "-R", f"127.0.0.1:{self.port}:127.0.0.1:{target}", "-i", str(key),
             "-p", str(relay.port), *SSH_OPTS, f"{os.environ.get('USER', 'root')}@127.0.0.1"],
            stderr=subprocess.DEVNULL, env=env)


class Jumpgate(Forwarder):
    name = "jumpgate"

    def __init__(self, work, relay, key, target, keepalive=(10, 3), second=False, max_connections=None):
        super().__init__(work, relay, key, target)
        more = (f"    - {{name: other, remote: {{bindAddress: 127.0.0.1, port: {self.second_port}}}, "
                f"target: {{host: 127.0.0.1, port: {target}}}}}\n") if second else ""
        cap = f", maxConnections: {max_connections}" if max_connections else ""
        self.http = free_port()
        spec = work / f"tunnel-{self.port}.yaml"
        spec.write_text(f"""apiVersion: jumpgate.dev/v1alpha1
kind: ReverseTunnel
metadata: {{name: bench}}
spec:
  relay: {{host: 127.0.0.1, port: {relay.port}, user: {os.environ.get('USER', 'root')}, hostKeys: ["{relay.host_key()}"]}}
  forwards:
    - {{name: bench, remote: {{bindAddress: 127.0.0.1, port: {self.port}}}, target: {{host: 127.0.0.1, port: {target}}}{cap}}}
{more}  keepalive: {{intervalSeconds: {keepalive[0]}, countMax: {keepalive[1]}}}
""")
        env = dict(os.environ, JUMPGATE_HTTP_PORT=str(self.http))
        if AGENT_JAVA_HOME:
            env["JAVA_HOME"] = AGENT_JAVA_HOME
        # The agent's log, kept when JUMPGATE_BENCH_AGENT_LOG names a file.
        log = open(os.environ.get("JUMPGATE_BENCH_AGENT_LOG", os.devnull), "a")
        self.process = subprocess.Popen([str(ROOT / "bin" / "jumpgate"), "agent", "--file", str(spec),
                                         "--identity", str(key)], stdout=log, stderr=log, env=env)

    def ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/q/health/ready", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False


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
    server = subprocess.Popen(["iperf3", "-s", "-p", str(iperf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        self.process = subprocess.Popen(["java", str(ROOT / "bench" / "DelayLine.java"), str(self.port), str(target),
                                         str(delay_ms)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    server = subprocess.Popen(["iperf3", "-s", "-p", str(iperf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    parser.add_argument("--only", default="throughput,latency,recovery,frozen,silent,memory,flood,stall,wan")
    parser.add_argument("--settle", type=float, default=10, help="seconds of quiet before each memory figure")
    parser.add_argument("--max-warmup", type=int, default=MAX_WARMUP_ROUNDS,
                        help="most unmeasured rounds per comparison while the agent's JIT compiles")
    parser.add_argument("--smoke", action="store_true",
                        help="CI's check that every comparison still runs: one short round each, figures not kept")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.seconds, args.connections, args.outages, args.recovery_rounds = 1, 1, 20, [0.5], 1
        args.settle, args.flood, args.stalled, args.delays, args.max_warmup = 0, 300, 20, [25], 1
        args.only = "throughput,latency,recovery,frozen,memory,flood,stall,wan"
    args.only = set(args.only.split(","))
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
        finally:
            relay.kill()
    print(table(results))
    if not args.smoke:
        (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        print("\nfigures: bench/results.json")


if __name__ == "__main__":
    sys.exit(main())
