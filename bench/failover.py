"""
Several relays: the preferred relay dies (sshd and its sessions killed); seconds until a new connection through the
forward works again, through the fallback relay. jumpgate (spec.fallbackRelays: a login to the fallback at the
failover), jumpgate-standby (fallbackSession Standby: a session logged in beforehand) against what one writes with
plain ssh, since autossh takes one host: a shell loop that runs `ssh -N -R` to each relay in turn.
"""
import os
import shlex
import statistics
import subprocess
import time
from pathlib import Path
from measure import seconds_until
from rig import SSH_OPTS, EchoServer, Forwarder, Jumpgate, Relay, echoes, tracked, wait_until


class SshLoop(Forwarder):
    """`while :; do for relay in a b; do ssh -N -R ... relay; done; done`, keepalive 1 s x 3, ExitOnForwardFailure."""
    name = "ssh-loop"

    def __init__(self, work, relays, key, target):
        super().__init__(work, relays[0], key, target)
        user = os.environ.get("USER", "root")
        ssh = ["ssh", "-N", "-R", f"127.0.0.1:{self.port}:127.0.0.1:{target}", "-i", str(key), *SSH_OPTS,
               "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=3", "-p"]
        ports = " ".join(str(r.port) for r in relays)
        script = f"while :; do for port in {ports}; do {shlex.join(ssh)} \"$port\" {user}@127.0.0.1; done; done"
        self.process = tracked(subprocess.Popen(["sh", "-c", script], stderr=subprocess.DEVNULL))


def run_failover(args, work, relay, key, results):
    """The preferred relay killed while both forwarders hold the forward there; both relays on this loopback, so the
    fallback can listen on the port the dead relay let go of."""
    echo = EchoServer()
    second = work / "fallback-relay"
    second.mkdir(exist_ok=True)
    fallback = Relay(second, Path(key).with_suffix(".pub").read_text())
    times = {}
    try:
        for _ in range(args.recovery_rounds):
            variants = [Jumpgate(work, relay, key, echo.port, fallback=fallback),
                        Jumpgate(work, relay, key, echo.port, fallback=fallback, standby=True),
                        SshLoop(work, [relay, fallback], key, echo.port)]
            for v in variants:
                v.wait_bound()
            # The standby variant's session to the fallback: logged in right after its first, but not at once.
            wait_until(lambda: len(fallback.sessions()) >= 1, 30, "the standby session on the fallback relay")
            relay.kill()
            since = time.monotonic()
            recovered = seconds_until({v.name: (lambda port=v.port: echoes(port)) for v in variants},
                                      since=since, poll=0.02)
            for v in variants:
                times.setdefault(v.name, []).append(recovered[v.name])
                v.stop()
            relay.start()
    finally:
        fallback.kill()
    results["failover_s"] = {name: statistics.median(series) for name, series in times.items()}
    results["failover_rounds"] = args.recovery_rounds
