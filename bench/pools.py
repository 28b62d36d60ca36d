#!/usr/bin/env python3
"""Agent pools on the project's own cluster (issue 13): 100 tunnels in one namespace, pooled, then dedicated.

Needs the demo up (hack/demo.sh leaves it running: the cluster, the operator watching namespace lab, the relay
203.0.113.10 and the lab machine 10.8.92.10) and root. The tunnels' key is authorized on the relay up front (one
Secret for all, its key line allowing exactly their 100 listens), so what is timed is the operator and the agents:

1. pooled, from nothing: 100 tunnels applied at once in pool "bench" (its agent does not exist yet); seconds until
   all are Ready; the agent pod's restarts; its RSS after a settle;
2. the marginal tunnel: the pool emptied, 1 tunnel, RSS; 99 more into the running pool, RSS: (RSS100 - RSS1) / 99;
3. dedicated: the same 100 with spec.agent.dedicated, each its own pod: seconds until all Ready (or how many are
   after DEDICATED_LIMIT), restarts, the RSS of the agent JVMs running then (--dedicated-only: this phase alone);
4. beside it, `ssh -N -R` (what autossh runs) on loopback: the RSS of one such tunnel, for the ratio.

Writes bench/pools.json. Run by bench/run.sh --only pools.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NS = "lab"
N = 100
FIRST_PORT = 5000
LAB = "10.8.92.10"
RELAY = "203.0.113.10"
TOPOLOGY = Path(os.environ.get("JUMPGATE_TOPOLOGY_DIR", "/var/lib/jumpgate-topology"))
SETTLE = 30
READY_LIMIT = 600
DEDICATED_LIMIT = 300


def sh(*args, input=None):
    return subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT, input=input).stdout


def kubectl(*args, input=None):
    return sh(KUBECTL, "-n", NS, *args, input=input)


def tunnel(i, placement):
    return {"apiVersion": "jumpgate.dev/v1alpha1", "kind": "ReverseTunnel",
            "metadata": {"name": f"bench-{i}", "namespace": NS, "labels": {"bench": "pools"}},
            "spec": {"relay": {"host": RELAY, "user": "root", "hostKeys": [HOST_KEY]},
                     "auth": {"secretRef": {"name": "bench-key"}},
                     "agent": placement,
                     "forwards": [{"name": "ssh", "remote": {"bindAddress": "0.0.0.0", "port": FIRST_PORT + i},
                                   "target": {"host": LAB, "port": 22}}]}}


def apply(indexes, placement):
    kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(tunnel(i, placement)) for i in indexes))


def ready_count():
    items = json.loads(kubectl("get", "reversetunnels", "-l", "bench=pools", "-o", "json"))["items"]
    return sum(1 for t in items for c in t.get("status", {}).get("conditions", [])
               if c["type"] == "Ready" and c["status"] == "True")


def await_ready(n, since, limit=None):
    while ready_count() < n:
        if time.monotonic() - since > (limit or READY_LIMIT):
            return None
        time.sleep(1)
    return round(time.monotonic() - since, 1)


def delete_all():
    kubectl("delete", "reversetunnels", "-l", "bench=pools", "--wait=true", "--timeout=300s")
    deadline = time.monotonic() + 300
    while kubectl("get", "pods", "-l", "app.kubernetes.io/name=jumpgate-agent", "-o", "name").count("bench") > 0:
        if time.monotonic() > deadline:
            raise RuntimeError("the bench's agent pods did not go")
        time.sleep(1)


def pods(selector):
    return json.loads(kubectl("get", "pods", "-l", selector, "-o", "json"))["items"]


def restarts(items):
    return sum(s.get("restartCount", 0) for p in items for s in p.get("status", {}).get("containerStatuses", []))


def rss_mib(pod):
    """The agent JVM's RSS, read on this host (the node): the process in the pod's running container's cgroup. A
    `kubectl exec` into each of 100 pods starting at once took minutes. None for a pod whose container is not running
    at the moment (a restart under way)."""
    status = json.loads(kubectl("get", "pod", pod, "-o", "json")).get("status", {})
    running = [c["containerID"].split("://")[-1] for c in status.get("containerStatuses", [])
               if c.get("name") == "agent" and "running" in c.get("state", {}) and c.get("containerID")]
    if not running:
        return None
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and running[0] in (proc / "cgroup").read_text() \
                    and (proc / "comm").read_text().strip() == "java":
                kib = rig.rss_kib([int(proc.name)])
                return kib / 1024 if kib else None  # a process on its way out has no RSS line
        except OSError:
            continue  # a process that ended meanwhile
    return None


def pool_rss():
    time.sleep(SETTLE)
    [pod] = pods("jumpgate.dev/agent=bench-pool")
    return round(rss_mib(pod["metadata"]["name"]), 1)


def dedicated(results):
    """The same 100, each with its own pod: as far as they get within DEDICATED_LIMIT on this node."""
    delete_all()
    start = time.monotonic()
    apply(range(N), {"dedicated": True})
    results["dedicated_ready_seconds"] = await_ready(N, start, DEDICATED_LIMIT)
    results["dedicated_ready_at_limit"] = ready_count()
    agents = [p for p in pods("app.kubernetes.io/name=jumpgate-agent") if p["metadata"]["name"].startswith("bench-")]
    results["dedicated_restarts"] = restarts(agents)
    print(f"dedicated: {results['dedicated_ready_at_limit']}/{N} Ready "
          + (f"in {results['dedicated_ready_seconds']} s" if results["dedicated_ready_seconds"] else
             f"after {DEDICATED_LIMIT} s") + f", restarts {results['dedicated_restarts']}", flush=True)
    measured = [m for m in (rss_mib(p["metadata"]["name"]) for p in agents) if m is not None]
    results["dedicated_rss_mib"] = round(sum(measured), 1)
    results["dedicated_rss_pods"] = len(measured)
    results["dedicated_rss_per_pod_mib"] = round(sum(measured) / max(1, len(measured)), 1)
    print(f"dedicated: RSS of the {len(measured)} agent JVMs running at that moment {results['dedicated_rss_mib']} MiB "
          f"({results['dedicated_rss_per_pod_mib']} MiB each)", flush=True)


def authorize(work):
    """One key for the bench's tunnels, its line allowing their listens (and the checks' opens) only."""
    key = work / "bench_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jumpgate-bench", "-f", str(key)], check=True)
    kubectl("delete", "secret", "bench-key", "--ignore-not-found")
    kubectl("create", "secret", "generic", "bench-key", f"--from-file=ssh-privatekey={key}")
    # The line the operator writes for one of them, widened to all: sshd takes the options of the first line that
    # names a key, so one key's line must allow every listen (a tunnel holds at most 64 forwards: the CLI cannot).
    one = tunnel(0, None)
    del one["spec"]["agent"], one["spec"]["auth"]
    (work / "one.yaml").write_text(json.dumps(one))
    line = sh("bin/jumpgate", "authorized-key", "--file", str(work / "one.yaml"), "--identity", str(key)).strip()
    options, rest = line.split(" ssh-ed25519 ", 1)
    port = f":{FIRST_PORT}\""
    widened = [o for o in options.split(",") if port not in o]
    for i in range(N):
        widened += [o.replace(port, f":{FIRST_PORT + i}\"") for o in options.split(",") if port in o]
    line = ",".join(widened) + " ssh-ed25519 " + rest
    keys = TOPOLOGY / "relay" / "authorized_keys"
    before = keys.read_text()
    sh("hack/topology.sh", "relay-authorize", before.rstrip("\n") + "\n" + line)
    return before


def ssh_rss_mib(work):
    """`ssh -N -R` holding one forward, as autossh runs it, on loopback beside the cluster: its RSS."""
    key = work / "ssh_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    relay = rig.Relay(work, (work / "ssh_ed25519.pub").read_text())
    target = rig.EchoServer()
    ssh = rig.OpenSsh(work, relay, key, target.port)
    try:
        ssh.wait_bound()
        time.sleep(2)
        return round(rig.rss_kib([ssh.process.pid]) / 1024, 1)
    finally:
        ssh.stop()
        relay.kill()


def main():
    global KUBECTL, HOST_KEY
    os.environ.setdefault("KUBECONFIG", "/var/lib/jumpgate-cluster/admin.kubeconfig")
    KUBECTL = sh("hack/kubernetes/build.sh").strip() + "/kubectl"
    HOST_KEY = sh("hack/topology.sh", "relay-hostkey").strip()
    results = {"tunnels": N}
    with tempfile.TemporaryDirectory(prefix="jumpgate-pools-") as tmp:
        work = Path(tmp)
        results["ssh_rss_mib"] = ssh_rss_mib(work)
        print(f"ssh -N -R, one tunnel: {results['ssh_rss_mib']} MiB", flush=True)
        authorized = authorize(work)
        try:
            delete_all()
            if "--dedicated-only" in sys.argv:
                dedicated(results)
                return
            pool = {"pool": "bench"}
            start = time.monotonic()
            apply(range(N), pool)
            results["pooled_ready_seconds"] = await_ready(N, start)
            results["pooled_restarts"] = restarts(pods("jumpgate.dev/agent=bench-pool"))
            results["pooled_rss_mib"] = pool_rss()
            print(f"pooled: {N} Ready in {results['pooled_ready_seconds']} s, restarts {results['pooled_restarts']}, "
                  f"agent RSS {results['pooled_rss_mib']} MiB", flush=True)

            delete_all()
            apply([0], pool)
            await_ready(1, time.monotonic())
            one = pool_rss()
            start = time.monotonic()
            apply(range(1, N), pool)
            results["joined_ready_seconds"] = await_ready(N, start)
            full = pool_rss()
            results["pool_rss_1_mib"], results["pool_rss_100_mib"] = one, full
            results["marginal_mib"] = round((full - one) / (N - 1), 2)
            print(f"marginal: 1 tunnel {one} MiB, {N} tunnels {full} MiB: {results['marginal_mib']} MiB per tunnel; "
                  f"99 joined a running pool Ready in {results['joined_ready_seconds']} s", flush=True)

            dedicated(results)
        finally:
            delete_all()
            kubectl("delete", "secret", "bench-key", "--ignore-not-found")
            sh("hack/topology.sh", "relay-authorize", authorized.rstrip("\n"))
    results["ratios"] = {
        "pool_rss_100_vs_dedicated_per_pod_x100": round(results["pooled_rss_mib"]
                                                       / (N * results["dedicated_rss_per_pod_mib"]), 3),
        "marginal_vs_ssh": round(results["marginal_mib"] / results["ssh_rss_mib"], 2),
        "pool_rss_100_vs_100_ssh": round(results["pooled_rss_mib"] / (N * results["ssh_rss_mib"]), 2)}
    print(json.dumps(results["ratios"]), flush=True)
    (ROOT / "bench" / "pools.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
