"""
Bulk transfer through a delay line between forwarder and relay.
"""
import subprocess
from rig import DelayLine, Jumpgate, OpenSsh, Via, free_port, listening, tracked, wait_until
from measure import JitActivity, compare, summarize, throughput


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
