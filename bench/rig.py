"""
What the comparisons are made of: the relay (a stock sshd), the forwarders side by side (the agent, ssh -N -R,
autossh), targets, the delay line, and the processes they start (every one stopped on any exit).
"""
import os
import signal
import socket
import subprocess
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
        kill_tree(process)


def tree(process):
    """The process and everything it started, parents first."""
    return [process.pid] + descendants(process.pid)


def signal_pids(pids, sig):
    """Sends sig to each of the pids still there (a short-lived child may be gone already)."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def kill_tree(process):
    """SIGKILL to the process and what it started, children first, then reaps it. Nothing for one already reaped:
    its pid may be another process's by now."""
    if process.poll() is None:
        signal_pids(reversed(tree(process)), signal.SIGKILL)
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


def listener_pid(port, netns=None):
    """The pid of the process listening on this TCP port (a relay's sshd session holding a forward), or None; in the
    network namespace netns (`ip netns exec`) when given."""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    out = subprocess.run([*prefix, "ss", "-Htlnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    for part in out.split("pid=")[1:]:
        return int(part.split(",")[0])
    return None


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

    def __init__(self, work, authorized, extra=()):
        """extra: sshd_config lines before the others (sshd keeps a keyword's first value), e.g. ClientAliveInterval."""
        self.work, self.port = work, free_port()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "host_ed25519")], check=True)
        (work / "authorized_keys").write_text(authorized)
        template = (ROOT / "hack" / "sshd_config.template").read_text().replace("{{DIR}}", str(work))
        (work / "relay.conf").write_text("\n".join([
            *extra, f"Port {self.port}", "ListenAddress 127.0.0.1", "AllowTcpForwarding yes",
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
        return tree(self.process)

    def sessions(self):
        """sshd's process for each connection to it: a new one means a forwarder connected again."""
        return set(children(self.process.pid))

    def kill(self):
        kill_tree(self.process)

    def signal_all(self, sig):
        signal_pids(self.pids(), sig)


class Forwarder:
    """Something that holds `-R 127.0.0.1:port -> 127.0.0.1:target` on the relay."""
    name = "?"

    def __init__(self, work, relay, key, target):
        self.work, self.relay, self.key, self.target = work, relay, key, target
        self.port = free_port()
        self.second_port = free_port()  # a second forward to the same target, for those that hold one (flood)
        self.process = None

    def wait_bound(self, seconds=30):
        def bound():
            if self.process.poll() is not None:  # it gave up (a refused file, a refused key): say so, do not wait
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} before its forward was bound"
                                   + ("" if os.environ.get("JUMPGATE_BENCH_AGENT_LOG") else
                                      "; JUMPGATE_BENCH_AGENT_LOG=FILE keeps the agent's log"))
            return listening(self.port)
        wait_until(bound, seconds, f"{self.name} forward")

    def pids(self):
        return tree(self.process)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                kill_tree(self.process)  # the whole tree: autossh's ssh too


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
                 forwards=1, check=None, check_interval=None, fallback=None, standby=False):
        """
        forwards: how many forwards to `target` (bench, bench-2, ...; their listen ports in self.ports); check: each
        forward's end-to-end check mode (None: the default, Auto); check_interval: spec.check.intervalSeconds;
        fallback: a second Relay, the only entry of spec.fallbackRelays; standby: fallbackSession Standby.
        """
        super().__init__(work, relay, key, target)
        self.name = "jumpgate-standby" if standby else "jumpgate"
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
        if fallback:
            check_spec += (f"  fallbackRelays: [{{host: 127.0.0.1, port: {fallback.port}, "
                           f"user: {os.environ.get('USER', 'root')}, hostKeys: [\"{fallback.host_key()}\"]}}]\n")
            if standby:
                check_spec += "  fallbackSession: Standby\n"
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
        def reachable(f):  # whatever else labels it (the tunnel, since one process may hold several)
            return any(k.startswith("jumpgate_agent_forward_reachable{") and f'forward="{f}"' in k and v == 1
                       for k, v in m.items())
        return all(reachable(f) for f in self.forwards)


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


def threads(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
        except (OSError, StopIteration):
            pass
    return total


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
