"""
The end-to-end check (issue 11): what it costs, and what it notices that autossh -M does not.
"""
import signal
import subprocess
import time
from rig import (Autossh, EchoServer, Jumpgate, OpenSsh, bytes_to_relay, children, cpu_seconds, lab_sshd, signal_pids,
                 started_with_session, wait_until)
from measure import seconds_until


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
        "jumpgate_1_off": lambda: Jumpgate(work, relay, key, lab.port, check="None"),
        "jumpgate_10": lambda: Jumpgate(work, relay, key, lab.port, forwards=10, check="SSHBanner",
                                        check_interval=interval),
        "jumpgate_10_off": lambda: Jumpgate(work, relay, key, lab.port, forwards=10, check="None"),
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
            signal_pids(frozen, signal.SIGSTOP)
            watched = {}
            for fault, (agent, _, auto, _) in pairs.items():
                watched[f"{fault}/jumpgate"] = lambda agent=agent: not agent.all_reachable()
                watched[f"{fault}/autossh"] = lambda auto=auto, fault=fault: \
                    auto.process.poll() is not None or set(children(auto.process.pid)) != ssh_of[fault]
            noticed = seconds_until(watched, since=time.monotonic(), poll=0.2, limit=args.fault_limit)
        finally:
            signal_pids(frozen, signal.SIGCONT)
            for rule in firewall:
                subprocess.run(["iptables", "-D", "INPUT", *rule], check=False)
    finally:
        own_lab.kill()
    return {"limit_s": args.fault_limit, "agent_check_interval_s": interval or 30,
            **{fault: {tool: noticed[f"{fault}/{tool}"] for tool in ("jumpgate", "autossh")} for fault in pairs}}
