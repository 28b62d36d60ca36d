# shellcheck shell=bash
# hack/cluster.sh, its certificates and kubeconfigs: made once, kept between clusters, renewed near
# expiry. Sourced by hack/cluster.sh, which sets the variables it uses.

# Certificates are kept between clusters (a next up starts at once) and made again when they expire within this
# many seconds (30 days), with the kubeconfigs that embed them; the CA (10 years) the same way, and all with it.
RENEW_BEFORE=2592000
fresh() { [[ -f $1 ]] && openssl x509 -checkend "$RENEW_BEFORE" -noout -in "$1" >/dev/null 2>&1; }

# RSA for client keys: the Fabric8 client cannot read EC keys in PKCS#8 without Bouncy Castle.
cert() { # name CN O [SANs]
  local name=$1 cn=$2 org=$3 sans=${4:-}
  fresh "$STATE/pki/$name.crt" && return
  [[ -f "$STATE/pki/$name.crt" ]] && log "renewing the $name certificate (expires within 30 days)"
  rm -f "$STATE/$name.kubeconfig"
  local ext="$STATE/pki/$name.ext"
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"; [[ -n $sans ]] && echo "subjectAltName=$sans"; } > "$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$STATE/pki/$name.key" \
    -subj "/CN=$cn${org:+/O=$org}" -out "$STATE/pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$STATE/pki/$name.csr" -CA "$STATE/pki/ca.crt" -CAkey "$STATE/pki/ca.key" -CAcreateserial \
    -days 365 -extfile "$ext" -out "$STATE/pki/$name.crt" 2>/dev/null
}

pki() {
  mkdir -p "$STATE/pki"
  if [[ -f "$STATE/pki/ca.crt" ]] && ! fresh "$STATE/pki/ca.crt"; then
    log "renewing the cluster's CA and every certificate it signed (the CA expires within 30 days)"
    rm -f "$STATE"/pki/* "$STATE"/*.kubeconfig
  fi
  if [[ ! -f "$STATE/pki/ca.crt" ]]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -keyout "$STATE/pki/ca.key" -subj "/CN=jumpgate-cluster-ca" -out "$STATE/pki/ca.crt" 2>/dev/null
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$STATE/pki/sa.key" 2>/dev/null
    openssl pkey -in "$STATE/pki/sa.key" -pubout -out "$STATE/pki/sa.pub"
  fi
  cert apiserver kube-apiserver "" "IP:$SERVICE_IP,IP:$NODE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  cert admin admin system:masters
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert controller-manager system:kube-controller-manager ""
  cert scheduler system:kube-scheduler ""
  cert kube-proxy system:kube-proxy ""
  cert kubelet "system:node:$NODE_NAME" system:nodes "IP:$NODE_IP,DNS:$NODE_NAME"
  for who in admin controller-manager scheduler kube-proxy kubelet; do kubeconfig "$who"; done
}

kubeconfig() { # who
  local who=$1 file="$STATE/$1.kubeconfig"
  [[ -f $file ]] && return
  local k="$BIN/kubectl --kubeconfig=$file"
  $k config set-cluster jumpgate --server="https://$NODE_IP:6443" --certificate-authority="$STATE/pki/ca.crt" --embed-certs >/dev/null
  $k config set-credentials "$who" --client-certificate="$STATE/pki/$who.crt" --client-key="$STATE/pki/$who.key" --embed-certs >/dev/null
  $k config set-context jumpgate --cluster=jumpgate --user="$who" >/dev/null
  $k config use-context jumpgate >/dev/null
}
