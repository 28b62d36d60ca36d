"""
A cut between forwarder and relay (every packet to and from the relay's port dropped for a few seconds, as a lost
route or a vanished node would): each forwarder notices, reconnects once the path is back, and asks for its listen
again; the relay still holds it for the old session until its ClientAlive check (here 3 s x 4) or the old
connection's late FIN ends that session. Seconds from the relay letting the old session's listen go (its sshd
process for that session gone) to a working connection through the forward: jumpgate (asks again every 0.5 s on its
new session) against autossh (-M 0, ServerAliveInterval 1 x 3, ExitOnForwardFailure: ssh exits when its listen is
refused, and autossh starts it again).
"""
import statistics
import subprocess
import threading
import time
from rig import Autossh, EchoServer, Jumpgate, Relay, echoes, listener_pid, wait_until

CUT_SECONDS = 5
RELAY_CLIENT_ALIVE = ["ClientAliveInterval 3", "ClientAliveCountMax 4"]
LIMIT_SECONDS = 90


def run_held_listen(args, work, key, results):
    held = work / "held-listen-relay"
    held.mkdir(exist_ok=True)
    relay = Relay(held, key.with_suffix(".pub").read_text(), extra=RELAY_CLIENT_ALIVE)
    echo = EchoServer()
    rules = [["-p", "tcp", "--dport", str(relay.port), "-j", "DROP"], ["-p", "tcp", "--sport", str(relay.port), "-j", "DROP"]]
    after_let_go = {}
    after_cut = {}
    try:
        for _ in range(args.recovery_rounds):
            variants = [Jumpgate(work, relay, key, echo.port, keepalive=(1, 3)),
                        Autossh(work, relay, key, echo.port, tuned=True, echo_port=echo.port)]
            for v in variants:
                v.wait_bound()
            old = {v.name: listener_pid(v.port) for v in variants}
            try:
                for rule in rules:
                    subprocess.run(["iptables", "-I", "INPUT", *rule], check=True)
                time.sleep(CUT_SECONDS)
            finally:
                for rule in rules:
                    subprocess.run(["iptables", "-D", "INPUT", *rule], check=False)
            restored = time.monotonic()
            let_go, served = {}, {}

            def follow(v):
                """When the relay lets the old session's listen go, then when the forward carries a connection."""
                while time.monotonic() - restored < LIMIT_SECONDS:
                    if v.name not in let_go and listener_pid(v.port) != old[v.name]:
                        let_go[v.name] = time.monotonic()
                    if v.name in let_go and echoes(v.port):
                        served[v.name] = time.monotonic()
                        return
                    time.sleep(0.02)

            watchers = [threading.Thread(target=follow, args=(v,), daemon=True) for v in variants]
            for w in watchers:
                w.start()
            for w in watchers:
                w.join()
            for v in variants:
                after_let_go.setdefault(v.name, []).append(
                    served[v.name] - let_go[v.name] if v.name in served else float("inf"))
                after_cut.setdefault(v.name, []).append(
                    served[v.name] - restored if v.name in served else float("inf"))
                v.stop()
            wait_until(lambda: not relay.sessions(), 30, "the relay's sessions gone")
    finally:
        relay.kill()
    results["held_listen_s"] = {
        "cut_s": CUT_SECONDS, "relay": ", ".join(RELAY_CLIENT_ALIVE), "rounds": args.recovery_rounds,
        "after_relay_let_go": {n: statistics.median(s) for n, s in after_let_go.items()},
        "after_path_back": {n: statistics.median(s) for n, s in after_cut.items()}}
