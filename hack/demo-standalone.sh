#!/usr/bin/env bash
# The classic recipe, rebuilt on this machine with the standalone agent: a "lab" sshd (the GPU box), a relay sshd
# (the cloud server), the Jumpgate agent holding the reverse forward, and the "laptop" reaching the lab through
# port 4040 of the relay. Everything runs on loopback, in a temporary directory, and is stopped at the end.
# hack/demo.sh is the same story with a cluster, the operator and an agent pod.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$JUMPGATE_ROOT"
hack/setup.sh
need python3 curl ssh ssh-keygen /usr/sbin/sshd
[[ -f target/quarkus-app/quarkus-run.jar ]] || mvn -B -q -ntp package -DskipTests

work="$(mktemp -d /tmp/jumpgate-demo.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
user="$(id -un)"

start_sshd() { # name port [extra config]: the host's key and authorized_keys in $work/name/
  local name=$1 port=$2; shift 2
  mkdir -p "$work/$name"; touch "$work/$name/authorized_keys"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$work/$name/host_ed25519"
  # The extra lines last: the relay's are the README's block, a Match block that runs to the end of the file.
  { echo "Port $port"; echo "ListenAddress 127.0.0.1"; sed "s#{{DIR}}#$work/$name#g" hack/sshd_config.template
    printf '%s\n' "$@"; } > "$work/$name.conf"
  /usr/sbin/sshd -D -e -f "$work/$name.conf" 2>"$work/$name.log" &
  pids+=($!)
}

echo "== keys: the laptop's, and the agent's (ed25519, as the operator would generate)"
ssh-keygen -q -t ed25519 -N '' -C laptop -f "$work/laptop"
ssh-keygen -q -t ed25519 -N '' -C "jumpgate:demo/lab-ssh" -f "$work/agent"

lab_port=$(free_port); relay_port=$(free_port); door=4040
echo "== lab machine: sshd on 127.0.0.1:$lab_port (the GPU box behind NAT)"
start_sshd lab "$lab_port"
cp "$work/laptop.pub" "$work/lab/authorized_keys"
echo "== relay: sshd on 127.0.0.1:$relay_port, with the README's block for the tunnels' account ($user here)"
start_sshd relay "$relay_port" "AllowTcpForwarding yes" "GatewayPorts clientspecified" \
  "$(sed "s/^Match User tunnel$/Match User $user/" examples/relay/sshd_config.d/jumpgate.conf)"

cat > "$work/tunnel.yaml" <<YAML
apiVersion: jumpgate.dev/v1alpha1
kind: ReverseTunnel
metadata: {name: lab-ssh}
spec:
  relay:
    host: 127.0.0.1
    port: $relay_port
    user: $user
    hostKeys: ["$(cut -d' ' -f1,2 "$work/relay/host_ed25519.pub")"]
  forwards:
    - name: ssh
      remote: {bindAddress: 127.0.0.1, port: $door}
      target: {host: 127.0.0.1, port: $lab_port}
YAML
echo "== on the relay, the line bin/jumpgate authorized-key --file tunnel.yaml --identity agent prints:"
bin/jumpgate authorized-key --file "$work/tunnel.yaml" --identity "$work/agent" | tee "$work/relay/authorized_keys"
echo "== the agent: bin/jumpgate agent --file tunnel.yaml --identity agent   (instead of autossh -fCNR $door:localhost:$lab_port)"
http_port=$(free_port)
JUMPGATE_HTTP_PORT=$http_port bin/jumpgate agent --file "$work/tunnel.yaml" --identity "$work/agent" > "$work/agent.log" 2>&1 &
pids+=($!)
health="http://127.0.0.1:$http_port/q/health/ready"
for _ in $(seq 1 100); do
  curl -fsS "$health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$health" || { echo "the agent did not get ready:"; cat "$work/agent.log"; exit 1; }
echo
echo "== the laptop: ssh -p $door $user@relay runs a command on the lab machine"
ssh -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$work/known_hosts" -i "$work/laptop" \
  -p "$door" "$user@127.0.0.1" 'echo "hello from the lab machine: $(hostname), sshd $SSH_CONNECTION"'
echo "== agent log:"
grep -E "TunnelReady|Connected|bound" "$work/agent.log" || true
echo "demo done (files in $work)"
