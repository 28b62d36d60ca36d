"""
The relay gone and back (recovery), frozen (SIGSTOP) or silent (iptables DROP): when each forwarder notices.
"""
import signal
import statistics
import subprocess
import time
from rig import Autossh, EchoServer, Jumpgate, OpenSsh, echoes, wait_until
from measure import seconds_until


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
        try:
            noticed = seconds_until({"jumpgate": lambda: not agent.ready(),
                                     "openssh": lambda: ssh.process.poll() is not None},
                                    since=time.monotonic(), poll=0.05)
        finally:
            restore()  # never leave the relay stopped or its port dropped
        for name in times:
            times[name].append(noticed[name])
        agent.stop()
        ssh.stop()
    return {name: statistics.median(series) for name, series in times.items()}
