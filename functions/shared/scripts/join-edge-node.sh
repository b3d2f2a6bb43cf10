#!/usr/bin/env bash
# edgekeeper: join this host to a KubeEdge cluster as an edge node (KubeSphere "Add Edge Nodes", automated).
#
# Rendered by functions/shared/join-script.ts: only the values block below changes, every value validated and
# shell-quoted. The join token is never in this file, nor in the command SSM keeps: edgekeeper's send step stores it
# in a SecureString parameter and names it in EDGEKEEPER_TOKEN_PARAMETER; this script reads it with the host's own
# AWS credentials (`aws ssm get-parameter`) into an unexported variable that only keadm's --token receives (see
# joinCommands in shared/join-script.ts and docs/adr/0004-join-token-handling.md). For a run by hand,
# EDGEKEEPER_TOKEN_FILE names a file that holds it, or EDGEKEEPER_TOKEN holds it (taken out of the environment at once).
#
# Steps: preflight -> edgemesh -> download -> join. Every line this script prints starts with
# "edgekeeper: <step>: "; a failure prints "edgekeeper: <step>: error: <reason>" on stderr and exits with:
#    0  joined, or edgecore already runs for this very node ("edgekeeper: done: already-joined": a rerun)
#    1  unexpected failure (the error line names the step and the failing line)
#    2  usage: no join token given, or its parameter could not be read (no aws CLI, no access, no parameter)
#   10  CPU architecture not supported (uname -m is not x86_64, aarch64 or armv7l)
#   11  no container runtime (Docker, containerd or CRI-O)
#   12  Docker older than 19.3.0 (KubeSphere needs >= 19.3.0 for pod metrics)
#   13  a required tool is missing (wget, curl, tar)
#   14  a cloudcore public port is unreachable over TCP
#   15  edgecore already runs on this host for another node (or an unknown one)
#   16  nodeIp is not an address of this host (upstream keadm cannot set the node IP)
#   17  EdgeMesh preparation failed (nsswitch.conf, ip_forward)
#   20  keadm download or unpacking failed
#   21  keadm join failed
# setup and preflight only read the host: a failure there (exit 2, 10-16, or exit 1 whose error line names setup
# or preflight) leaves it exactly as it was, so edgekeeper's rollback does not reset it. From edgemesh on, it changes.
# Optional: EDGEKEEPER_STOP_AFTER=preflight|edgemesh stops after that step (no token needed).
set -Eeuo pipefail

# edgekeeper:values:begin
# replaced by render-host-script (these are examples that keep the template runnable)
node_name='edge-example'
node_ip='192.168.100.10'
kubeedge_version='v1.6.1'
profile='fork'
# shellcheck disable=SC2016 # ${arch} is a placeholder this script fills in, not an expansion
download_url_template='https://kubeedge.pek3b.qingstor.com/bin/v1.6.1/${arch}/keadm-v1.6.1-linux-${arch}.tar.gz'
cloudcore_address='203.0.113.10'
cloudcore_tcp_ports=(10000 10002 10004)
node_ip_must_be_local='false'
keadm_join_args=(join --kubeedge-version=1.6.1 --region=zh --cloudcore-ipport=203.0.113.10:10000 --certport=10002 --quicport=10001 --tunnelport=10004 --edgenode-name=edge-example --edgenode-ip=192.168.100.10 --with-edge-taint)
runtime_args_docker=()
runtime_args_containerd=(--runtimetype=remote --remote-runtime-endpoint=unix:///run/containerd/containerd.sock)
runtime_args_crio=(--runtimetype=remote --remote-runtime-endpoint=unix:///var/run/crio/crio.sock)
# edgekeeper:values:end

readonly work_dir="/opt/edgekeeper/keadm-${kubeedge_version}"
readonly keadm_bin='/opt/edgekeeper/bin/keadm'
readonly nsswitch_conf='/etc/nsswitch.conf'
readonly nsswitch_hosts='hosts:          dns files mdns4_minimal [NOTFOUND=return]'
readonly sysctl_dropin='/etc/sysctl.d/90-edgekeeper-edgemesh.conf'
# What the EdgeMesh step changed, recorded before it changes it, so a reset can put the host back as it was.
readonly edgemesh_state='/var/lib/edgekeeper/edgemesh'
readonly edgecore_config='/etc/kubeedge/config/edgecore.yaml'
readonly docker_minimum='19.3.0'

step='setup'
arch=''
runtime=''
join_token=''

say() { printf 'edgekeeper: %s: %s\n' "$step" "$*"; }

# fail CODE REASON: the one way this script gives up on purpose.
fail() {
  local code=$1
  shift
  printf 'edgekeeper: %s: error: %s\n' "$step" "$*" >&2
  exit "$code"
}

on_unexpected_error() {
  local status=$1 line=$2 command=$3
  trap - ERR
  printf 'edgekeeper: %s: error: unexpected failure (exit %s) at line %s: %s\n' "$step" "$status" "$line" "$command" >&2
  exit 1
}
trap 'on_unexpected_error $? $LINENO "$BASH_COMMAND"' ERR

detect_arch() {
  local machine
  machine=$(uname -m)
  case "$machine" in
    x86_64) arch='amd64' ;;
    aarch64 | arm64) arch='arm64' ;;
    armv7l) arch='arm' ;;
    *) fail 10 "unsupported CPU architecture ${machine}: expected x86_64, aarch64 or armv7l" ;;
  esac
  say "architecture ${machine} -> ${arch}"
}

# Prints the Docker server version, or nothing when Docker is absent or its daemon does not answer.
docker_server_version() {
  command -v docker >/dev/null 2>&1 || return 0
  docker version --format '{{.Server.Version}}' 2>/dev/null || true
}

# version_at_least A B: true when dotted version A >= B (numeric parts; "19.03.15" reads as 19.3.15).
version_at_least() {
  local -a have want
  local i
  IFS=. read -r -a have <<<"${1%%[-+]*}"
  IFS=. read -r -a want <<<"$2"
  for i in 0 1 2; do
    local h=$((10#${have[i]:-0})) w=$((10#${want[i]:-0}))
    ((h > w)) && return 0
    ((h < w)) && return 1
  done
  return 0
}

# Picks the runtime keadm will use. Docker hosts also run containerd (without its CRI plugin), so the fork keadm,
# whose default is Docker, prefers Docker; upstream keadm defaults to containerd and prefers it.
detect_runtime() {
  local docker_version has_containerd=false has_crio=false
  docker_version=$(docker_server_version)
  [[ -S /run/containerd/containerd.sock ]] && has_containerd=true
  [[ -S /var/run/crio/crio.sock ]] && has_crio=true
  if [[ $profile == 'fork' && -n $docker_version ]] || [[ $has_containerd == false && $has_crio == false && -n $docker_version ]]; then
    if ! version_at_least "$docker_version" "$docker_minimum"; then
      fail 12 "docker ${docker_version} is older than ${docker_minimum}"
    fi
    runtime='docker'
  elif [[ $has_containerd == true ]]; then
    runtime='containerd'
  elif [[ $has_crio == true ]]; then
    runtime='crio'
  else
    fail 11 'no container runtime: install Docker >= 19.3.0, containerd or CRI-O (and start it)'
  fi
  say "container runtime ${runtime}${docker_version:+ (docker ${docker_version})}"
}

check_tools() {
  local tool missing=()
  for tool in wget curl tar; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]} > 0)); then
    fail 13 "missing required tools: ${missing[*]}"
  fi
  say 'wget, curl and tar are present'
}

check_ports() {
  local port unreachable=()
  for port in "${cloudcore_tcp_ports[@]}"; do
    if ! timeout 3 bash -c "</dev/tcp/${cloudcore_address}/${port}" 2>/dev/null; then
      unreachable+=("$port")
    fi
  done
  if ((${#unreachable[@]} > 0)); then
    fail 14 "cloudcore ${cloudcore_address} is unreachable on TCP port(s) ${unreachable[*]}"
  fi
  say "cloudcore ${cloudcore_address} reachable on TCP ports ${cloudcore_tcp_ports[*]}"
}

check_node_ip() {
  [[ $node_ip_must_be_local == 'true' ]] || return 0
  if ! ip -4 -o addr show 2>/dev/null | grep -Fq " ${node_ip}/"; then
    fail 16 "nodeIp ${node_ip} is not an address of this host, and keadm ${kubeedge_version} reports the host's own address"
  fi
  say "nodeIp ${node_ip} is an address of this host"
}

# 0 = not running, 1 = running for this node (a rerun), 15 = running for another node (or unknown).
check_edgecore() {
  if ! command -v systemctl >/dev/null 2>&1 || ! systemctl is-active --quiet edgecore; then
    say 'edgecore is not running'
    return 0
  fi
  if [[ -f $edgecore_config ]] && grep -Eq "hostnameOverride:[[:space:]]*[\"']?${node_name}[\"']?[[:space:]]*$" "$edgecore_config"; then
    return 1
  fi
  fail 15 "edgecore already runs on this host for another node: remove that node first"
}

preflight() {
  step='preflight'
  detect_arch
  check_tools
  detect_runtime
  check_ports
  check_node_ip
}

# Keeps the first original only: a rerun after a partial failure must not record edgekeeper's own edit as original.
remember() {
  local name=$1
  mkdir -p "$edgemesh_state"
  [[ -e "$edgemesh_state/$name" ]] && return 0
  cat >"$edgemesh_state/$name"
}

# The hosts line EdgeMesh needs, replacing any existing hosts: line (never appending a second one).
prepare_nsswitch() {
  local current=''
  [[ -f $nsswitch_conf ]] && current=$(grep -E '^[[:space:]]*hosts[[:space:]]*:' "$nsswitch_conf" || true)
  if [[ $current == "$nsswitch_hosts" ]]; then
    say "${nsswitch_conf} hosts line already set"
    return 0
  fi
  local rewritten
  rewritten=$(mktemp)
  if [[ -f $nsswitch_conf ]]; then
    awk -v wanted="$nsswitch_hosts" '
      /^[[:space:]]*hosts[[:space:]]*:/ { if (!done) print wanted; done = 1; next }
      { print }
      END { if (!done) print wanted }' "$nsswitch_conf" >"$rewritten"
  else
    printf '%s\n' "$nsswitch_hosts" >"$rewritten"
  fi
  if [[ -f $nsswitch_conf ]]; then remember nsswitch.conf.orig <"$nsswitch_conf"; else remember nsswitch.conf.absent </dev/null; fi
  # Write in place (not mv): keeps the file's owner, mode and any bind mount.
  cat "$rewritten" >"$nsswitch_conf"
  rm -f "$rewritten"
  say "${nsswitch_conf} hosts line set"
}

prepare_ip_forward() {
  local wanted='net.ipv4.ip_forward = 1'
  if [[ ! -f $sysctl_dropin ]] || [[ $(cat "$sysctl_dropin") != "$wanted" ]]; then
    if [[ -f $sysctl_dropin ]]; then remember sysctl-dropin.orig <"$sysctl_dropin"; else remember sysctl-dropin.created </dev/null; fi
    mkdir -p "$(dirname "$sysctl_dropin")"
    printf '%s\n' "$wanted" >"$sysctl_dropin"
  fi
  [[ $(sysctl -n net.ipv4.ip_forward) == '1' ]] || sysctl -n net.ipv4.ip_forward | remember ip_forward.orig
  sysctl -q -p "$sysctl_dropin" >/dev/null || fail 17 "sysctl -p ${sysctl_dropin} failed"
  [[ $(sysctl -n net.ipv4.ip_forward) == '1' ]] || fail 17 'net.ipv4.ip_forward is still not 1'
  say "net.ipv4.ip_forward = 1 (persisted in ${sysctl_dropin})"
}

edgemesh() {
  step='edgemesh'
  prepare_nsswitch || fail 17 "could not set the hosts line of ${nsswitch_conf}"
  prepare_ip_forward
}

download() {
  step='download'
  local url=${download_url_template//\$\{arch\}/$arch}
  mkdir -p "$work_dir" "$(dirname "$keadm_bin")"
  say "downloading ${url}"
  curl -fsSL --retry 3 --connect-timeout 10 -o "${work_dir}/keadm.tar.gz" "$url" || fail 20 "download of ${url} failed"
  tar xvf "${work_dir}/keadm.tar.gz" -C "$work_dir" >/dev/null || fail 20 "could not unpack ${work_dir}/keadm.tar.gz"
  # The fork's tarball holds ./keadm, upstream's keadm-<ver>-linux-<arch>/keadm/keadm.
  local found
  found=$(find "$work_dir" -type f -name keadm | head -n 1)
  [[ -n $found ]] || fail 20 "no keadm binary in ${url}"
  install -m 0755 "$found" "$keadm_bin"
  say "keadm installed at ${keadm_bin}"
}

# Sets join_token once: from EDGEKEEPER_TOKEN (which leaves the environment at once, so no child inherits it), the
# file EDGEKEEPER_TOKEN_FILE, or the SecureString parameter EDGEKEEPER_TOKEN_PARAMETER. join_token is never exported:
# keadm's --token argument is the only place it goes. No subshell around this: fail must end the script.
read_token() {
  [[ -z $join_token ]] || return 0
  join_token=${EDGEKEEPER_TOKEN:-}
  unset EDGEKEEPER_TOKEN
  if [[ -z $join_token && -n ${EDGEKEEPER_TOKEN_FILE:-} ]]; then
    [[ -r $EDGEKEEPER_TOKEN_FILE ]] || fail 2 "cannot read the join token file ${EDGEKEEPER_TOKEN_FILE}"
    join_token=$(<"$EDGEKEEPER_TOKEN_FILE")
  fi
  if [[ -z $join_token && -n ${EDGEKEEPER_TOKEN_PARAMETER:-} ]]; then
    command -v aws >/dev/null 2>&1 ||
      fail 2 "cannot read the join token parameter ${EDGEKEEPER_TOKEN_PARAMETER}: the AWS CLI (aws) is not installed"
    # A network blip must not fail a join that nothing has started yet: a few tries, 1 + 2 + 4 s apart.
    local attempt
    for attempt in 1 2 3 4; do
      join_token=$(aws ssm get-parameter --name "$EDGEKEEPER_TOKEN_PARAMETER" --with-decryption \
        --query Parameter.Value --output text </dev/null) && break
      join_token=''
      ((attempt < 4)) || fail 2 "cannot read the join token parameter ${EDGEKEEPER_TOKEN_PARAMETER} with this host's AWS credentials"
      sleep $((1 << (attempt - 1)))
    done
  fi
  [[ -n $join_token ]] || fail 2 'no join token: set EDGEKEEPER_TOKEN_PARAMETER, EDGEKEEPER_TOKEN_FILE or EDGEKEEPER_TOKEN'
}

join_cluster() {
  step='join'
  read_token
  local -a runtime_args=()
  case "$runtime" in
    docker) runtime_args=(${runtime_args_docker[@]+"${runtime_args_docker[@]}"}) ;;
    containerd) runtime_args=(${runtime_args_containerd[@]+"${runtime_args_containerd[@]}"}) ;;
    crio) runtime_args=(${runtime_args_crio[@]+"${runtime_args_crio[@]}"}) ;;
  esac
  say "keadm ${keadm_join_args[*]} ${runtime_args[*]+${runtime_args[*]}} --token=<redacted>"
  if ! (cd "$work_dir" && "$keadm_bin" "${keadm_join_args[@]}" ${runtime_args[@]+"${runtime_args[@]}"} "--token=${join_token}" </dev/null 9<&-); then
    fail 21 "keadm join failed for node ${node_name}"
  fi
  say "node ${node_name} joined"
}

# One join at a time on a host: a rerun sent while an earlier join still runs (its workflow was killed, its script
# was not) waits for it, then finds edgecore running for this node and answers already-joined. The lock is taken
# on a directory every host has, so taking it creates nothing; keadm gets the descriptor closed, so a daemon it
# starts cannot hold the lock after this script ends.
hold_join_lock() {
  command -v flock >/dev/null 2>&1 || return 0
  exec 9</var/lib
  flock -w 900 9 || fail 2 'another edgekeeper join has been running on this host for 15 minutes'
}

main() {
  hold_join_lock
  # Fail before touching the host when the join could not happen anyway.
  [[ -n ${EDGEKEEPER_STOP_AFTER:-} ]] || read_token
  preflight
  if ! check_edgecore; then
    step='done'
    say "already-joined: edgecore already runs for node ${node_name}"
    return 0
  fi
  [[ ${EDGEKEEPER_STOP_AFTER:-} == 'preflight' ]] && { step='done'; say 'preflight-only'; return 0; }
  edgemesh
  [[ ${EDGEKEEPER_STOP_AFTER:-} == 'edgemesh' ]] && { step='done'; say 'edgemesh-only'; return 0; }
  download
  join_cluster
  step='done'
  say "joined: node ${node_name}"
}

main "$@"
