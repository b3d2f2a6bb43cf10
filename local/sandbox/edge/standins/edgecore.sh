#!/usr/bin/env bash
# edgecore stand-in, packed into the mirror's KubeEdge tarballs. The systemctl stand-in calls it with
# --sandbox-notify=started when edgecore.service starts and --sandbox-notify=stopped when it stops.
# started: fetch the CA and the edge certificate from cloudcore's cert port with the join token (cloudcore answers
# 401 on a bad token), check the container runtime, then register at cloudhub, which creates or refreshes the Node.
# stopped: tell cloudhub the edge went away (the Node turns NotReady and stays).
# HTTP goes through bash's /dev/tcp: a real edgecore needs neither curl nor wget.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

EDGECORE_VERSION=v1.6.2 # @edgecore-version
CONFIG="$R/etc/kubeedge/config/sandbox-edgecore.env"
declare -A CONF=()
HTTP_STATUS=0
HTTP_BODY=

fail() {
  echo "edgecore: $*" >&2
  exit 1
}

load_config() {
  local k v
  [[ -f "$CONFIG" ]] || fail "failed to load /etc/kubeedge/config/edgecore.yaml: no such file or directory"
  while IFS='=' read -r k v; do CONF[$k]=$v; done <"$CONFIG"
}

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# http_request METHOD HOST:PORT PATH BODY [HEADER...]: sets HTTP_STATUS and HTTP_BODY.
http_request() {
  local method=$1 hostport=$2 path=$3 body=$4 header response
  shift 4
  local LC_ALL=C
  if ! exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}"; then
    HTTP_STATUS=0
    HTTP_BODY="dial tcp $hostport: connect: connection refused"
    return 0
  fi
  {
    printf '%s %s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n' \
      "$method" "$path" "$hostport" "${#body}"
    for header in "$@"; do printf '%s\r\n' "$header"; done
    printf '\r\n%s' "$body"
  } >&3
  response=$(cat <&3)
  exec 3<&-
  local status_line=${response%%$'\r\n'*}
  read -r _ HTTP_STATUS _ <<<"$status_line"
  HTTP_BODY=${response#*$'\r\n\r\n'}
}

fetch_certificates() {
  local certs="$R/etc/kubeedge/certs" ca="$R/etc/kubeedge/ca"
  [[ -s "$certs/server.crt" ]] && return 0
  http_request GET "${CONF[CERT_SERVER]}" /ca.crt ''
  [[ "$HTTP_STATUS" == 200 ]] || fail "failed to get CA certificate from https://${CONF[CERT_SERVER]}/ca.crt: $HTTP_STATUS $HTTP_BODY"
  mkdir -p "$ca" "$certs"
  printf '%s' "$HTTP_BODY" >"$ca/rootCA.crt"
  http_request GET "${CONF[CERT_SERVER]}" /edge.crt '' "Authorization: Bearer ${CONF[TOKEN]}" "NodeName: ${CONF[NODE_NAME]}"
  if [[ "$HTTP_STATUS" != 200 ]]; then
    fail "failed to get edge certificate from the cloudcore, error: $HTTP_STATUS $HTTP_BODY (is the token right and unexpired?)"
  fi
  printf '%s' "$HTTP_BODY" >"$certs/server.crt"
  printf '%s\n' '-----BEGIN EC PRIVATE KEY-----' 'c2FuZGJveA==' '-----END EC PRIVATE KEY-----' >"$certs/server.key"
  chmod 0600 "$certs/server.key"
}

# The edge certificate's body line is the id cloudcore issued it under; it authenticates the cloudhub calls.
certificate_id() { sed -n '2p' "$R/etc/kubeedge/certs/server.crt" 2>/dev/null; }

runtime_version() {
  local version
  if version=$(docker version --format '{{.Server.Version}}' 2>/dev/null) && [[ -n "$version" ]]; then
    printf 'docker://%s' "$version"
  elif version=$(containerd --version 2>/dev/null) && [[ -n "$version" ]]; then
    read -r _ _ version _ <<<"$version"
    printf 'containerd://%s' "$version"
  else
    fail "failed to connect to the container runtime: neither docker nor containerd answers"
  fi
}

k8s_arch() {
  case "$(uname -m)" in
    x86_64) printf amd64 ;;
    aarch64) printf arm64 ;;
    armv7l) printf arm ;;
    *) uname -m ;;
  esac
}

os_image() {
  local k v
  if [[ -f "$R/etc/os-release" ]]; then
    while IFS='=' read -r k v; do
      if [[ "$k" == PRETTY_NAME ]]; then v=${v#\"}; printf '%s' "${v%\"}"; return 0; fi
    done <"$R/etc/os-release"
  fi
  printf 'Linux'
}

mount_secret_volume() {
  # A kubelet-style secret volume for the node's first static pod: tmpfs when the host has its own mounts.
  local dir="$R/var/lib/edged/pods/00000000-0000-4000-8000-sandboxedge0/volumes/kubernetes.io~secret/default-token"
  mkdir -p "$R/var/lib/edged/pods" "$R/var/lib/edged/plugins" "$dir"
  if [[ $EUID -eq 0 ]] && sandbox_private_mounts && ! mountpoint -q "$dir"; then
    mount -t tmpfs -o size=1m tmpfs "$dir"
  fi
  printf 'sandbox\n' >"$dir/token"
}

connect() {
  load_config
  fetch_certificates
  local runtime body
  runtime=$(runtime_version)
  body="{\"nodeName\":$(json_string "${CONF[NODE_NAME]}"),\"internalIP\":$(json_string "${CONF[NODE_IP]}")"
  body+=",\"hostname\":$(json_string "$(sandbox_trait HOSTNAME)"),\"architecture\":$(json_string "$(k8s_arch)")"
  body+=",\"osImage\":$(json_string "$(os_image)"),\"kernelVersion\":$(json_string "$(uname -r)")"
  body+=",\"containerRuntimeVersion\":$(json_string "$runtime"),\"kubeedgeVersion\":$(json_string "${CONF[KUBEEDGE_VERSION]}")"
  body+=",\"withEdgeTaint\":${CONF[WITH_EDGE_TAINT]:-false},\"labels\":$(json_string "${CONF[LABELS]:-}")}"
  http_request POST "${CONF[CLOUDHUB]}" /sandbox/v1/edge/connect "$body" "X-Sandbox-Edge-Cert: $(certificate_id)"
  [[ "$HTTP_STATUS" == 200 ]] || fail "failed to connect to cloudhub ${CONF[CLOUDHUB]}: $HTTP_STATUS $HTTP_BODY"
  mount_secret_volume
}

disconnect() {
  [[ -f "$CONFIG" ]] || return 0
  load_config
  local id
  id=$(certificate_id)
  [[ -n "$id" ]] || return 0
  http_request POST "${CONF[CLOUDHUB]}" /sandbox/v1/edge/disconnect "{\"nodeName\":$(json_string "${CONF[NODE_NAME]}")}" \
    "X-Sandbox-Edge-Cert: $id"
}

main() {
  sandbox_log edgecore "$@"
  case "${1:-}" in
    --version) echo "KubeEdge $EDGECORE_VERSION" ;;
    --sandbox-notify=started) connect ;;
    --sandbox-notify=stopped) disconnect ;;
    *) echo "edgecore $EDGECORE_VERSION (sandbox stand-in): runs only through edgecore.service" ;;
  esac
}

main "$@"
