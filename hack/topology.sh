#!/usr/bin/env bash
# The hosts of the classic recipe, as network namespaces beside the cluster's node (needs root):
#   lab     10.8.92.10   the GPU box on the cluster's LAN: an sshd the agent forwards to
#   relay   203.0.113.10 the cloud server, a stock OpenSSH sshd with the README's block for the tunnels' account
#                        (examples/relay/sshd_config.d/jumpgate.conf), reachable from the node; 192.0.2.10 on the
#                        laptop's side
#   relay-b 203.0.113.10:2222 a second relay's sshd on the relay's host (a tunnel's fallback relay), configured as the
#                        first; its own host key and authorized_keys
#   relay-ca 203.0.113.10:2223 a third sshd on the relay's host that knows no key: it trusts the user CA
#                        (TrustedUserCAKeys, the README's jumpgate-user-ca.conf; the operator holds that CA in the
#                        cluster tier) with a principals file, and presents a host certificate from the host CA
#   laptop  192.0.2.20   reaches the relay and nothing else
#   bastion 198.51.100.10 a company's way out, beside the node: a jump host (sshd, port 22) that reaches the relay,
#                        and an HTTP CONNECT proxy (tinyproxy, port 3128, Basic auth, CONNECT to port 22 only)
#
#   hack/topology.sh up | down | status
#   hack/topology.sh relay-authorize "LINE"   replace the relay's authorized_keys (the tunnel's authorizedKey)
#   hack/topology.sh relay-hostkey            the relay's host key, to pin
#   hack/topology.sh relay-stop | relay-start the relay's sshd (sessions included)
#   hack/topology.sh relay-b-authorize "LINE" | relay-b-hostkey | relay-b-stop | relay-b-start   the same for relay-b
#   hack/topology.sh lab-stop | lab-start     the lab machine's sshd
#   hack/topology.sh user-ca-key              the path of the user CA's private key (for the operator's Secret)
#   hack/topology.sh host-ca                  the host CA's public key, to trust (spec.relay.hostCertificateAuthorities)
#   hack/topology.sh relay-ca-principals "LINE"   replace relay-ca's principals file (a tunnel's authorizedPrincipal)
#   hack/topology.sh relay-firewall drop|accept PORT   a firewall rule on the relay dropping connections to PORT
#   hack/topology.sh relay-gatewayports no|clientspecified   the tunnels' GatewayPorts; restarts the relay's sshd
#   hack/topology.sh bastion-authorize "LINE" replace the jump host's authorized_keys (a tunnel's hops[0].authorizedKey)
#   hack/topology.sh bastion-hostkey          the jump host's host key, to pin
#   hack/topology.sh proxy-password           the proxy's password (user jumpgate)
#   hack/topology.sh proxy-log                what the proxy logged (each CONNECT)
#   hack/topology.sh relay-socks PORT HOST TARGET_PORT   a SOCKS5 client on the relay, to its loopback's PORT: prints
#                                             "reply N" and, when it connected, the first line the target sent
#   hack/topology.sh laptop CMD...            run a command on the laptop
#   hack/topology.sh laptop-reaches ADDR PORT whether the laptop can open a TCP connection there
# Logins are for root with keys kept in the state directory; the laptop's key opens the lab.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need ip /usr/sbin/sshd ssh ssh-keygen pkill pgrep ps iptables /usr/bin/tinyproxy
STATE="${JUMPGATE_TOPOLOGY_DIR:-/var/lib/jumpgate-topology}"
LAB_IP=10.8.92.10 LAB_GW=10.8.92.1
RELAY_IP=203.0.113.10 RELAY_GW=203.0.113.1
RELAY_LAPTOP_IP=192.0.2.10 LAPTOP_IP=192.0.2.20 RELAY_B_PORT=2222 RELAY_CA_PORT=2223
BASTION_IP=198.51.100.10 BASTION_GW=198.51.100.1

ns() { ip netns exec "jg-$1" "${@:2}"; }

sshd_config() { # host port extra...
  local host=$1 port=$2; shift 2
  mkdir -p "$STATE/$host"
  [[ -f "$STATE/$host/host_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C "$host" -f "$STATE/$host/host_ed25519"
  touch "$STATE/$host/authorized_keys"
  { echo "Port $port"; echo "LogLevel VERBOSE"; printf '%s\n' "$@"
    sed "s#{{DIR}}#$STATE/$host#g" "$JUMPGATE_ROOT/hack/sshd_config.template"; } > "$STATE/$host/sshd_config"
}

start_sshd() { # host [netns]: the netns is the host's own unless named (relay-b runs on the relay's)
  ns "${2:-$1}" /usr/sbin/sshd -f "$STATE/$1/sshd_config" -E "$STATE/$1/sshd.log"
}

# Whether the process descends from (or is) one of the given pids.
descends_from() { # pid pids...
  local p=$1 l; shift
  while [[ -n "$p" && "$p" != 0 && "$p" != 1 ]]; do
    for l in "$@"; do [[ "$p" == "$l" ]] && return 0; done
    p=$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')
  done
  return 1
}

stop_sshd() { # host [netns]: the listener and every session it serves, not another sshd's of the same netns
  local pid others=() f
  pid=$(cat "$STATE/$1/sshd.pid" 2>/dev/null) || return 0
  pkill -9 -P "$pid" 2>/dev/null || true
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$STATE/$1/sshd.pid"
  for f in "$STATE"/*/sshd.pid; do [[ -f "$f" ]] && others+=("$(cat "$f")"); done
  # sessions re-parented after their listener died
  pgrep -f "sshd: .*" | while read -r p; do
    [[ "$(ip netns identify "$p" 2>/dev/null)" == "jg-${2:-$1}" ]] || continue
    descends_from "$p" "${others[@]}" && continue
    kill -9 "$p" 2>/dev/null || true
  done
}

veth() { # netns ip/len host-side-ip/len name
  local n=$1 inside=$2 outside=$3 name=$4
  ip link add "$name" type veth peer name "$name-in"
  ip link set "$name-in" netns "jg-$n"
  ip addr add "$outside" dev "$name"; ip link set "$name" up
  ns "$n" ip addr add "$inside" dev "$name-in"; ns "$n" ip link set "$name-in" up
}

up() {
  down >/dev/null 2>&1 || true
  mkdir -p /run/sshd "$STATE"
  for n in lab relay laptop bastion; do ip netns add "jg-$n"; ns "$n" ip link set lo up; done
  veth lab "$LAB_IP/24" "$LAB_GW/24" jg-lab
  ns lab ip route add default via "$LAB_GW"
  veth relay "$RELAY_IP/24" "$RELAY_GW/24" jg-relay
  ns relay ip route add default via "$RELAY_GW"
  veth bastion "$BASTION_IP/24" "$BASTION_GW/24" jg-bastion
  ns bastion ip route add default via "$BASTION_GW"
  # The laptop and the relay share a link of their own; the laptop has no route anywhere else.
  ip link add jg-laptop type veth peer name jg-laptop-in
  ip link set jg-laptop netns jg-relay; ip link set jg-laptop-in netns jg-laptop
  ns relay ip addr add "$RELAY_LAPTOP_IP/24" dev jg-laptop; ns relay ip link set jg-laptop up
  ns laptop ip addr add "$LAPTOP_IP/24" dev jg-laptop-in; ns laptop ip link set jg-laptop-in up

  [[ -f "$STATE/laptop_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C laptop -f "$STATE/laptop_ed25519"
  sshd_config lab 22
  cp "$STATE/laptop_ed25519.pub" "$STATE/lab/authorized_keys"
  local r
  for r in relay relay-b; do
    sshd_config "$r" "$([[ $r == relay ]] && echo 22 || echo "$RELAY_B_PORT")" \
      "AllowTcpForwarding yes" "GatewayPorts clientspecified" "ClientAliveInterval 5" "ClientAliveCountMax 3"
    # The block the README recommends for the tunnels' account (root here), last: a Match block runs to the end.
    sed 's/^Match User tunnel$/Match User root/' "$JUMPGATE_ROOT/examples/relay/sshd_config.d/jumpgate.conf" \
      >> "$STATE/$r/sshd_config"
  done
  relay_ca
  sshd_config bastion 22
  start_sshd lab
  start_sshd relay
  start_sshd relay-b relay
  start_sshd relay-ca relay
  start_sshd bastion
  start_proxy
  echo "topology: lab $LAB_IP, relay $RELAY_IP (laptop side $RELAY_LAPTOP_IP; relay-b on port $RELAY_B_PORT)," \
    "relay-ca on port $RELAY_CA_PORT, laptop $LAPTOP_IP," \
    "bastion $BASTION_IP (jump host :22, HTTP proxy :3128)" >&2
}

# relay-ca: no authorized_keys at all; a user certificate from the user CA whose principal has a line in its principals
# file (with that line's restrictions), and a host certificate for the relay's address from the host CA. The CAs are
# made once and kept in the state directory, as the hosts' keys are.
relay_ca() {
  local ca
  for ca in user_ca host_ca; do
    [[ -f "$STATE/$ca" ]] || ssh-keygen -q -t ed25519 -N '' -C "jumpgate topology $ca" -f "$STATE/$ca"
  done
  sshd_config relay-ca "$RELAY_CA_PORT" "AllowTcpForwarding yes" "GatewayPorts clientspecified" \
    "ClientAliveInterval 5" "ClientAliveCountMax 3" "AuthorizedKeysFile none" \
    "HostCertificate $STATE/relay-ca/host_ed25519-cert.pub"
  ssh-keygen -q -s "$STATE/host_ca" -h -I relay-ca -n "$RELAY_IP" -V -5m:+520w "$STATE/relay-ca/host_ed25519.pub"
  touch "$STATE/relay-ca/principals"
  sed -e 's/^Match User tunnel$/Match User root/' -e "s#/etc/ssh/jumpgate_user_ca.pub#$STATE/user_ca.pub#" \
    -e "s#/etc/ssh/jumpgate_principals/%u#$STATE/relay-ca/principals#" \
    "$JUMPGATE_ROOT/examples/relay/sshd_config.d/jumpgate-user-ca.conf" > "$STATE/relay-ca/user-ca.conf"
  # The README's two blocks, as an /etc/ssh/sshd_config.d holds them: one Match block for the account, both parts.
  { sed 's/^Match User tunnel$/Match User root/' "$JUMPGATE_ROOT/examples/relay/sshd_config.d/jumpgate.conf"
    grep -v '^Match ' "$STATE/relay-ca/user-ca.conf"; } >> "$STATE/relay-ca/sshd_config"
}

down() {
  stop_sshd lab || true
  stop_sshd relay || true
  stop_sshd relay-b relay || true
  stop_sshd relay-ca relay || true
  stop_sshd bastion || true
  [[ -f "$STATE/bastion/tinyproxy.pid" ]] && kill -9 "$(cat "$STATE/bastion/tinyproxy.pid")" 2>/dev/null || true
  rm -f "$STATE/bastion/tinyproxy.pid"
  for n in lab relay laptop bastion; do ip netns del "jg-$n" 2>/dev/null || true; done
  ip link del jg-lab 2>/dev/null || true
  ip link del jg-relay 2>/dev/null || true
  ip link del jg-bastion 2>/dev/null || true
}

start_proxy() { # tinyproxy on the bastion: Basic auth, CONNECT to port 22 only (a jump host's), from anywhere
  [[ -f "$STATE/bastion/proxy-password" ]] || head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$STATE/bastion/proxy-password"
  chmod 600 "$STATE/bastion/proxy-password"
  cat > "$STATE/bastion/tinyproxy.conf" <<EOF_PROXY
Port 3128
Listen $BASTION_IP
Allow 0.0.0.0/0
Timeout 600
MaxClients 64
LogLevel Connect
LogFile "$STATE/bastion/tinyproxy.log"
PidFile "$STATE/bastion/tinyproxy.pid"
BasicAuth jumpgate $(cat "$STATE/bastion/proxy-password")
ConnectPort 22
EOF_PROXY
  ns bastion /usr/bin/tinyproxy -c "$STATE/bastion/tinyproxy.conf"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) ip netns list | grep '^jg-' || true ;;
  relay-authorize) printf '%s\n' "${2:?line}" > "$STATE/relay/authorized_keys" ;;
  relay-hostkey) cut -d' ' -f1,2 "$STATE/relay/host_ed25519.pub" ;;
  bastion-authorize) printf '%s\n' "${2:?line}" > "$STATE/bastion/authorized_keys" ;;
  bastion-hostkey) cut -d' ' -f1,2 "$STATE/bastion/host_ed25519.pub" ;;
  proxy-password) cat "$STATE/bastion/proxy-password" ;;
  proxy-log) cat "$STATE/bastion/tinyproxy.log" 2>/dev/null || true ;;
  relay-stop) stop_sshd relay ;;
  relay-start) start_sshd relay ;;
  relay-b-authorize) printf '%s\n' "${2:?line}" > "$STATE/relay-b/authorized_keys" ;;
  relay-b-hostkey) cut -d' ' -f1,2 "$STATE/relay-b/host_ed25519.pub" ;;
  relay-b-stop) stop_sshd relay-b relay ;;
  relay-b-start) start_sshd relay-b relay ;;
  user-ca-key) echo "$STATE/user_ca" ;;
  host-ca) cut -d' ' -f1,2 "$STATE/host_ca.pub" ;;
  relay-ca-principals) printf '%s\n' "${2:?line}" > "$STATE/relay-ca/principals" ;;
  lab-stop) stop_sshd lab ;;
  lab-start) start_sshd lab ;;
  relay-firewall)
    case "${2:?drop|accept}" in
      drop) ns relay iptables -I INPUT -p tcp --dport "${3:?port}" -j DROP ;;
      accept) while ns relay iptables -D INPUT -p tcp --dport "${3:?port}" -j DROP 2>/dev/null; do :; done ;;
      *) echo "relay-firewall drop|accept PORT" >&2; exit 2 ;;
    esac ;;
  relay-gatewayports)
    # The block's line for the tunnels' account (sshd keeps the first value: the Match block's is the one used).
    sed -i "s/^\(\s*GatewayPorts\) .*/\1 ${2:?no|clientspecified}/" "$STATE/relay/sshd_config"
    stop_sshd relay; start_sshd relay ;;
  relay-socks) ns relay python3 - "${2:?port}" "${3:?host}" "${4:?target port}" <<'EOF_SOCKS'
import socket, struct, sys
port, host, target = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00", "no method accepted"
s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + struct.pack(">H", target))
reply = s.recv(10)
print("reply", reply[1])
if reply[1] == 0:
    print(s.makefile("rb").readline().decode(errors="replace").strip())
EOF_SOCKS
    ;;
  laptop) shift; ns laptop "$@" ;;
  laptop-reaches) ns laptop timeout 3 bash -c "</dev/tcp/${2:?address}/${3:?port}" ;;
  ssh-from-laptop) shift; ns laptop ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o ConnectTimeout=5 -i "$STATE/laptop_ed25519" "$@" ;;
  *) sed -n '2,35p' "$0"; exit 2 ;;
esac
