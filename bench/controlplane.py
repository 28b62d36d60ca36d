#!/usr/bin/env python3
"""The operator at scale on a real control plane (hack/cluster.sh with no node: agents are never scheduled).

For 1, 100, 1000 and 10,000 ReverseTunnels created at once, in pools of 100: seconds until the operator has made
every tunnel's objects (key Secret, Lease), handed each to its pool (every pool's list of members, a Secret, its
ServiceAccount, Role, RoleBinding and Deployment) and written its status; the operator's RSS afterwards. Then the steady state: the server-side applies the API server serves while every tunnel is reconciled
once more (none expected: nothing changed), once the statuses have said that no agent reported. Needs root. Run by bench/run.sh --only controlplane; `python3 bench/controlplane.py 2000` runs one size alone.
With --operator-after-apply the operator starts once all are applied, and the time counts from its start;
--skip-steady-state ends after the last size (for profiling the reconciles alone).
Beside each figure: the CPU seconds the operator, the API server and etcd spent on it (2 cores in all), which tells
which of them a slow figure waited for.
"""
import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEADY_SECONDS = 75
APPLY_STREAMS = 8
SETTLE_SECONDS = 180 + 60 + 15  # StatusAggregator.FIRST_REPORT_DEADLINE, a heartbeat recheck, a margin
POOL_SIZE = 100
RELAY_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUkituUMVtkrZyMpHYswXkrnmmT0+z0NBkuc4/PijNN"


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT, **kw).stdout


def kubectl(*args, input=None):
    return subprocess.run([KUBECTL, *args], check=True, capture_output=True, text=True, input=input).stdout


def count(kind, namespace):
    out = kubectl("get", kind, "-n", namespace, "-l", "app.kubernetes.io/managed-by=jumpgate-operator", "-o", "name")
    return len(out.split())


class Statuses:
    """Tunnels whose status is written for their spec and names the key their pool's agent was given, followed
    through a watch: listing 10,000 tunnels every few seconds would be load of the bench's own, not the operator's."""

    def __init__(self, namespace):
        self.written = set()
        self.watch = subprocess.Popen(
            [KUBECTL, "get", "reversetunnels", "-n", namespace, "--watch", "-o",
             "jsonpath={.metadata.name} {.status.observedGeneration} {.status.agent.keyVersion}{\"\\n\"}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self):
        for line in self.watch.stdout:
            fields = line.split()
            if len(fields) == 3 and fields[1] == "1":
                self.written.add(fields[0])
            elif fields:
                self.written.discard(fields[0])

    def count(self):
        return len(self.written)

    def stop(self):
        self.watch.terminate()
        self.watch.wait()


def members(namespace):
    """Tunnels listed in their pools' lists (the Secrets the agents follow): handed to an agent, not just reconciled."""
    out = kubectl("get", "secrets", "-n", namespace, "-l", "jumpgate.dev/agent", "-o",
                  "jsonpath={range .items[*]}{.data.pool\\.json}{\"\\n\"}{end}")
    return sum(len(json.loads(base64.b64decode(line))["members"]) for line in out.split())


def tunnels(n, namespace):
    docs = []
    for i in range(n):
        docs.append(json.dumps({
            "apiVersion": "jumpgate.dev/v1alpha1", "kind": "ReverseTunnel",
            "metadata": {"name": f"t{i}", "namespace": namespace},
            "spec": {"relay": {"host": "relay.example.com", "user": "tunnel", "hostKeys": [RELAY_KEY]},
                     "agent": {"pool": f"p{i // POOL_SIZE}"},
                     "forwards": [{"name": "ssh", "remote": {"port": 4040}, "target": {"host": "10.8.92.10", "port": 22}}]}}))
    return "\n---\n".join(docs)


def cpu_seconds(pid):
    """User and system CPU of a process so far (/proc/PID/stat, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def control_plane_pids():
    """The API server's and etcd's processes, by name."""
    pids = {}
    for name in ("kube-apiserver", "etcd"):
        out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split()
        if out:
            pids[name] = int(out[0])
    return pids


def live_heap(pid, top=0):
    """The operator's live heap in MiB (jcmd's class histogram, which collects first); its largest classes if asked."""
    out = subprocess.run(["jcmd", str(pid), "GC.class_histogram"], capture_output=True, text=True).stdout.splitlines()
    total = next((line for line in out if line.startswith("Total")), None)
    if top:
        print("\n".join(out[1:top + 3]), flush=True)
    return round(int(total.split()[2]) / 2**20, 1) if total else None


def apply_all(docs):
    """Applies the tunnels as a GitOps tool would, several requests at once: one kubectl, one request after the other,
    takes minutes for 10,000 on its own, and the figure would be kubectl's."""
    docs = docs.split("\n---\n")
    streams = min(APPLY_STREAMS, len(docs))
    procs = [subprocess.Popen([KUBECTL, "apply", "--server-side", "-f", "-"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(streams)]
    for i, proc in enumerate(procs):
        proc.stdin.write("\n---\n".join(docs[i::streams]))
        proc.stdin.close()
    for proc in procs:
        if proc.wait() != 0:
            raise RuntimeError("kubectl apply failed: " + proc.stderr.read())


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def requests():
    """Requests the API server has served so far, by verb and resource (its apiserver_request_total counter)."""
    counts = {}
    for line in kubectl("get", "--raw", "/metrics").splitlines():
        m = re.match(r'apiserver_request_total\{(.*)\} ([0-9.e+]+)$', line)
        if m:
            verb = re.search(r'verb="([^"]*)"', m.group(1)).group(1)
            resource = re.search(r'resource="([^"]*)"', m.group(1)).group(1)
            subresource = re.search(r'subresource="([^"]*)"', m.group(1))
            key = verb + " " + resource + ("/" + subresource.group(1) if subresource and subresource.group(1) else "")
            counts[key] = counts.get(key, 0) + float(m.group(2))
    return counts


def served_since(before, after, verbs=None):
    return {k: int(after[k] - before.get(k, 0)) for k in sorted(after)
            if after[k] - before.get(k, 0) > 0 and (verbs is None or k.split()[0] in verbs)}


def operator_kubeconfig(bin_dir):
    """The operator as in its pod: the chart's ServiceAccount and rights (helm template), a bearer token. Also keeps
    the bench honest about RBAC, and off fabric8's client-certificate path, which re-reads the kubeconfig file at
    every request (a fifth of the operator's CPU here, and nothing a pod does)."""
    kubectl("create", "namespace", "jumpgate")
    rendered = subprocess.run([f"{bin_dir}/helm", "template", "jumpgate", str(ROOT / "helm/jumpgate"), "--namespace",
                               "jumpgate", "--set", "watchAllNamespaces=true", "--show-only", "templates/rbac.yaml", "--show-only",
                               "templates/serviceaccount.yaml"], check=True, capture_output=True, text=True).stdout
    kubectl("apply", "--server-side", "-f", "-", input=rendered)
    token = kubectl("create", "token", "jumpgate", "-n", "jumpgate", "--duration", "4h").strip()
    admin = json.loads(kubectl("config", "view", "--raw", "--minify", "-o", "json"))
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "operator",
              "clusters": [{"name": "bench", "cluster": admin["clusters"][0]["cluster"]}],
              "users": [{"name": "operator", "user": {"token": token}}],
              "contexts": [{"name": "operator", "context": {"cluster": "bench", "user": "operator"}}]}
    path = Path("/tmp/jumpgate-bench-operator.kubeconfig")
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return str(path)


def pod_jvm_options():
    """The operator's JVM as in its pod: the image's jvm.options and the chart's jvmOptions, sized by its limit."""
    values = (ROOT / "helm/jumpgate/values.yaml").read_text()
    limit = re.search(r"^resources:\n(?:  .*\n)*?  limits:\n    memory: (\d+)Mi", values, re.M).group(1)
    operator_opts = re.search(r'^jvmOptions: "([^"]*)"', values, re.M).group(1)
    return [f"@{ROOT / 'src/main/docker/jvm.options'}", f"-XX:MaxRAM={limit}m", *operator_opts.split()]


def main():
    global KUBECTL
    KUBECTL = sh("hack/kubernetes/build.sh").strip() + "/kubectl"
    env = dict(os.environ, JUMPGATE_CLUSTER_NODE="0")
    subprocess.run(["hack/cluster.sh", "up"], check=True, cwd=ROOT, env=env)
    os.environ["KUBECONFIG"] = "/var/lib/jumpgate-cluster/admin.kubeconfig"
    kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    kubectl("wait", "--for=condition=Established", "crd/reversetunnels.jumpgate.dev", "--timeout=60s")
    # JUMPGATE_BENCH_JFR=file.jfr: a flight recording of the operator, to see where its CPU goes.
    recording = [f"-XX:StartFlightRecording=filename={os.environ['JUMPGATE_BENCH_JFR']},settings=profile"] \
        if os.environ.get("JUMPGATE_BENCH_JFR") else []
    # JUMPGATE_OPERATOR_NAMESPACE: where its leader election Lease is, as the chart tells its pod.
    operator_env = dict(os.environ, KUBECONFIG=operator_kubeconfig(os.path.dirname(KUBECTL)),
                        JUMPGATE_OPERATOR_NAMESPACE="jumpgate")
    def start_operator():
        return subprocess.Popen(["java", *pod_jvm_options(), *recording, "-Dquarkus.http.port=0", "-jar",
                                 str(ROOT / "target/quarkus-app/quarkus-run.jar")],
                                stdout=subprocess.DEVNULL, stderr=open(ROOT / "bench" / "controlplane-operator.log", "w"),
                                env=operator_env)
    # --operator-after-apply: the tunnels are all applied first, then the operator starts (an operator upgraded or
    # restarted under 10,000 tunnels, and the operator's own time without the user's applies on the same cores).
    after_apply = "--operator-after-apply" in sys.argv
    operator = None if after_apply else start_operator()
    results = {}
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--")] or [1, 100, 1000, 10000]
    try:
        for n in sizes:
            ns = f"scale-{n}"
            # A run stopped half way leaves its namespaces in the cluster's store: start from none.
            kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true", "--timeout=300s")
            kubectl("create", "namespace", ns)
            statuses = Statuses(ns)
            if after_apply:
                apply_all(tunnels(n, ns))
                operator = operator or start_operator()
            pids = dict(control_plane_pids(), operator=operator.pid)
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            served_before = requests()
            start = time.monotonic()
            if not after_apply:
                apply_all(tunnels(n, ns))
            applied = time.monotonic() - start
            pools = -(-n // POOL_SIZE)
            while True:
                # Cheapest first: listing 10,000 Secrets every few seconds is load the operator would not cause.
                done = statuses.count() >= n and members(ns) >= n and count("secrets", ns) >= n + pools \
                    and count("leases", ns) >= n \
                    and all(count(kind, ns) >= pools for kind in ("serviceaccounts", "roles", "rolebindings",
                                                                  "deployments"))
                if done:
                    break
                if time.monotonic() - start > 900:
                    raise RuntimeError(f"{n} tunnels not reconciled in 900 s ({statuses.count()} statuses)")
                time.sleep(0.5 if n <= 100 else 1 if statuses.count() < n else 3)
            statuses.stop()
            last_done = time.monotonic()
            cpu = {name: round(cpu_seconds(pid) - cpu_before[name], 1) for name, pid in pids.items()}
            # The operator's requests (and the bench's own few LISTs and the apply of the tunnels).
            served = served_since(served_before, requests(), {"APPLY", "PATCH", "POST", "PUT", "GET", "DELETE", "LIST"})
            results[n] = {"seconds": round(time.monotonic() - start, 2), "applied_after_seconds": round(applied, 1), "operator_rss_mib": round(rss_mib(operator.pid), 1),
                          "operator_live_heap_mib": live_heap(operator.pid, int(os.environ.get("JUMPGATE_BENCH_HISTOGRAM", "0"))),
                          "cpu_seconds": cpu, "requests": served}
            if after_apply:
                results[n]["operator_started_after_apply"] = True
            print(f"{n:>5} tunnels{' (operator started after they were applied)' if after_apply else ''}: objects and status in {results[n]['seconds']:.1f} s (all applied after {applied:.1f} s); "
                  f"operator RSS {results[n]['operator_rss_mib']:.0f} MiB (live heap {results[n]['operator_live_heap_mib']} MiB); "
                  f"CPU s {cpu}", flush=True)
            print(f"       requests served: {served}", flush=True)
        if "--skip-steady-state" not in sys.argv:
            # Steady state: every tunnel is reconciled again within a minute (its heartbeat recheck); an owned object
            # that still matches what the operator wants must not be written again.
            # No agent ever reports here: a tunnel's status says so once, 3 minutes after its Lease was made (the
            # operator's first-report deadline), at the reconcile after. That change is expected; wait it out first.
            time.sleep(max(0.0, SETTLE_SECONDS - (time.monotonic() - last_done)))
            before = requests()
            time.sleep(STEADY_SECONDS)
            writes = served_since(before, requests(), {"APPLY"})
            results["steady_state"] = {"seconds": STEADY_SECONDS, "applies": writes}
            print(f"steady state, {STEADY_SECONDS} s after: server-side applies {writes or 'none'}", flush=True)
    finally:
        if operator:
            operator.terminate()
            operator.wait()
        subprocess.run(["hack/cluster.sh", "down"], cwd=ROOT)
    (ROOT / "bench" / "controlplane.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
