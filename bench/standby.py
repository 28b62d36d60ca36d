#!/usr/bin/env python3
"""The forwarder dies: seconds until the laptop reaches the lab through the relay again (issue 14's standby).

On the project's cluster, after hack/demo.sh (the cluster, the operator watching namespace lab, the relay
203.0.113.10, the lab 10.8.92.10, the laptop 192.0.2.20), root. Side by side, each on a port of the relay of its own:

- jumpgate: a tunnel with spec.agent.replicas 2 (a serving pod and a standby); its serving pod deleted (SIGTERM: a
  rollout, a drain), and its serving process killed (SIGKILL from the host: the kubelet restarts it in the same pod,
  or the standby takes over after the Lease's 4 s);
- autossh as the classic recipe runs it beside the cluster (-M 0, ServerAliveInterval 1 x 3, ExitOnForwardFailure),
  its ssh killed (SIGKILL): autossh starts it anew.

A round counts from the kill to the first lab sshd banner the laptop reads through the relay's port once the relay's
listen belongs to a new session (the sshd process holding it changed): not the dying forwarder's last breath.
Median of ROUNDS. Writes bench/standby.json. Run by bench/run.sh --only standby.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NS = "lab"
NAME = "bench-standby"
LAB = "10.8.92.10"
RELAY = "203.0.113.10"
RELAY_FROM_LAPTOP = "192.0.2.10"
JUMPGATE_PORT, AUTOSSH_PORT = 5400, 5401
TOPOLOGY = Path(os.environ.get("JUMPGATE_TOPOLOGY_DIR", "/var/lib/jumpgate-topology"))
ROUNDS = int(os.environ.get("JUMPGATE_BENCH_STANDBY_ROUNDS", "3"))
LIMIT = 60


def sh(*args, input=None, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True, cwd=ROOT, input=input).stdout


def kubectl(*args, input=None):
    return sh(KUBECTL, "-n", NS, *args, input=input)


def listener(port):
    """The pid of the relay's sshd session that holds the listen on this port, or None."""
    return rig.listener_pid(port, "jg-relay")


def laptop_reads_banner(port):
    """Whether the laptop, through the relay's port, reads the lab sshd's banner (the forward works end to end)."""
    script = f"exec 3<>/dev/tcp/{RELAY_FROM_LAPTOP}/{port} && head -c 7 <&3"
    result = subprocess.run(["ip", "netns", "exec", "jg-laptop", "timeout", "2", "bash", "-c", script],
                            capture_output=True, text=True)
    return result.stdout == "SSH-2.0"


def seconds_until_served_anew(port, old, since):
    """From since (monotonic) until the listen is a new session's and the banner comes through it."""
    while time.monotonic() - since < LIMIT:
        now = listener(port)
        if now is not None and now != old and laptop_reads_banner(port):
            return time.monotonic() - since
        time.sleep(0.02)
    return float("inf")


def wait_until(check, seconds, what):
    rig.wait_until(check, seconds, what)


def tunnel():
    return {"apiVersion": "jumpgate.dev/v1alpha1", "kind": "ReverseTunnel",
            "metadata": {"name": NAME, "namespace": NS},
            "spec": {"relay": {"host": RELAY, "user": "root", "hostKeys": [HOST_KEY]},
                     "agent": {"dedicated": True, "replicas": 2},
                     "keepalive": {"intervalSeconds": 2, "countMax": 3},
                     "reconnect": {"maxBackoffSeconds": 5},
                     "forwards": [{"name": "ssh", "remote": {"bindAddress": "0.0.0.0", "port": JUMPGATE_PORT},
                                   "target": {"host": LAB, "port": 22}}]}}


def get_tunnel():
    return json.loads(kubectl("get", "reversetunnel", NAME, "-o", "json"))


def ready():
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in get_tunnel().get("status", {}).get("conditions", []))


def holder():
    lease = json.loads(kubectl("get", "lease", f"{NAME}-agent-leader", "-o", "json", "--ignore-not-found") or "{}")
    return lease.get("spec", {}).get("holderIdentity")


def agent_pods_ready():
    pods = json.loads(kubectl("get", "pods", "-l", f"jumpgate.dev/agent={NAME}-agent", "-o", "json"))["items"]
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    return len(live) == 2 and all(s.get("ready") for p in live for s in p.get("status", {}).get("containerStatuses", [{}]))


def agent_process(pod):
    """The agent JVM of that pod, found from the host by the HOSTNAME the kubelet gave it."""
    marker = f"HOSTNAME={pod}\0".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "java" and marker in (entry / "environ").read_bytes():
                    return int(entry.name)
            except OSError:
                continue
    raise RuntimeError(f"no java process of pod {pod}")


def steady_jumpgate():
    wait_until(lambda: agent_pods_ready() and holder() and laptop_reads_banner(JUMPGATE_PORT), 180,
               "two agent pods ready and the tunnel serving")
    return listener(JUMPGATE_PORT)


def jumpgate_pod_deleted():
    old = steady_jumpgate()
    serving = holder()
    since = time.monotonic()
    kubectl("delete", "pod", serving, "--wait=false")
    return seconds_until_served_anew(JUMPGATE_PORT, old, since)


def jumpgate_process_killed():
    old = steady_jumpgate()
    pid = agent_process(holder())
    since = time.monotonic()
    os.kill(pid, 9)
    return seconds_until_served_anew(JUMPGATE_PORT, old, since)


class ClassicAutossh:
    """autossh beside the cluster, as the classic recipe: the relay's port to the lab's sshd."""

    def __init__(self, work):
        self.key = work / "autossh_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)], check=True)
        self.line = self.key.with_suffix(".pub").read_text().strip()
        self.process = None

    def start(self):
        """Once the relay has its key line."""
        env = dict(os.environ, AUTOSSH_GATETIME="0")
        self.process = rig.tracked(subprocess.Popen(
            ["autossh", "-M", "0", "-N", "-R", f"0.0.0.0:{AUTOSSH_PORT}:{LAB}:22", "-i", str(self.key),
             "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=3", *rig.SSH_OPTS, f"root@{RELAY}"],
            stderr=subprocess.DEVNULL, env=env))

    def ssh_pid(self):
        children = rig.children(self.process.pid)
        return children[0] if children else None

    def ssh_killed(self):
        wait_until(lambda: self.ssh_pid() and laptop_reads_banner(AUTOSSH_PORT), 60, "autossh serving")
        old = listener(AUTOSSH_PORT)
        since = time.monotonic()
        os.kill(self.ssh_pid(), 9)
        return seconds_until_served_anew(AUTOSSH_PORT, old, since)

    def stop(self):
        if self.process:
            rig.kill_tree(self.process)


def main():
    global KUBECTL, HOST_KEY
    os.environ.setdefault("KUBECONFIG", "/var/lib/jumpgate-cluster/admin.kubeconfig")
    KUBECTL = sh("hack/kubernetes/build.sh").strip() + "/kubectl"
    HOST_KEY = sh("hack/topology.sh", "relay-hostkey").strip()
    keys = TOPOLOGY / "relay" / "authorized_keys"
    before = keys.read_text()
    times = {"jumpgate: serving pod deleted": [], "jumpgate: serving process killed": [],
             "autossh: ssh killed": []}
    autossh = None
    with tempfile.TemporaryDirectory(prefix="jumpgate-standby-") as tmp:
        try:
            kubectl("apply", "-f", "-", input=json.dumps(tunnel()))
            wait_until(lambda: get_tunnel().get("status", {}).get("authorizedKey"), 60, "the tunnel's key line")
            autossh = ClassicAutossh(Path(tmp))
            sh("hack/topology.sh", "relay-authorize", "\n".join(
                [before.rstrip("\n"), get_tunnel()["status"]["authorizedKey"], autossh.line]).strip("\n"))
            autossh.start()
            wait_until(ready, 120, "the tunnel Ready")
            for _ in range(ROUNDS):
                times["jumpgate: serving pod deleted"].append(jumpgate_pod_deleted())
                times["jumpgate: serving process killed"].append(jumpgate_process_killed())
                times["autossh: ssh killed"].append(autossh.ssh_killed())
                print({k: [round(v, 2) for v in s] for k, s in times.items()}, flush=True)
        finally:
            # Each step alone, the relay's keys first: never leave the bench's keys on the relay.
            keys.write_text(before)
            try:
                if autossh:
                    autossh.stop()
                kubectl("delete", "reversetunnel", NAME, "--ignore-not-found", "--wait=true")
            finally:
                rig.stop_everything()
    results = {"rounds": ROUNDS, "seconds": times,
               "median_s": {k: round(statistics.median(s), 2) for k, s in times.items()}}
    (ROOT / "bench" / "standby.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\nseconds from the forwarder's death to the laptop reading the lab's banner through a new session "
          f"(median of {ROUNDS})")
    print("| " + " | ".join(results["median_s"]) + " |")
    print("| " + " | ".join("---" for _ in results["median_s"]) + " |")
    print("| " + " | ".join(f"{v:.2f}" for v in results["median_s"].values()) + " |")


if __name__ == "__main__":
    sys.exit(main())
