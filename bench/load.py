"""
A flood of held connections, and connections whose target stopped reading (head-of-line blocking).
"""
import socket
import threading
import time
from rig import EchoServer, Jumpgate, OpenSsh, StallingEchoServer, listening, push_forever, rss_kib, threads, wait_until
from measure import connection_latencies, pct, round_trips


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
