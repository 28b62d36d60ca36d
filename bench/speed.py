"""
Throughput, new connections, round trips and memory on loopback.
"""
import statistics
import subprocess
import time
from rig import Autossh, EchoServer, Jumpgate, OpenSsh, free_port, listening, rss_kib, tracked, wait_until
from measure import JitActivity, compare, connection_latencies, pct, round_trips, summarize, throughput


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
