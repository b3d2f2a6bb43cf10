#!/usr/bin/env bash
# keadm stand-in, one per keadm release, packed into the download mirror's tarballs. It accepts exactly the flags
# of its release (the profile block below is filled from keadm-flags.json when the mirror builds the tarball) and
# fails like the real binary on anything else: cobra's "unknown flag", pflag's parse errors, blang/semver's panic
# on a `v`-prefixed --kubeedge-version for fork tags.
#
# join (KubeEdge README + fork source): refuse when edgecore runs; install mosquitto (fork) when it does not run;
# wget the KubeEdge tarball + checksum into /etc/kubeedge; copy edgecore to /usr/local/bin; write edgecore.yaml;
# install and start edgecore.service. Starting the unit runs the edgecore stand-in's connect step (certificates
# from the cert port with the token, then registration at cloudhub), so a bad token fails the join here, while a
# real Type=simple unit would only crash-loop afterwards.
# reset: prompt unless --force; exit 0 doing nothing when no KubeEdge component runs (as real keadm); stop and
# remove edgecore.service, remove k8s_ containers, empty /etc/kubeedge, /var/log/kubeedge, /var/lib/kubeedge,
# /var/lib/edged (busy mounts stay); leave mosquitto, /usr/local/bin/edgecore, the keadm files and the Node.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

# @keadm-profile (replaced per release when the mirror builds the tarball)
KEADM_VERSION=v1.6.2
KEADM_FAMILY=fork # fork | upstream-legacy (<= 1.10: binaries + apt mosquitto) | upstream (>= 1.11: image based)
KEADM_VERSION_FORMAT=no-v
KEADM_DEFAULT_KUBEEDGE_VERSION=1.5.0
KEADM_RESET_SUBCOMMANDS=false
KEADM_JOIN_FLAGS='cloudcore-ipport|e|string||true'
KEADM_RESET_FLAGS='force||bool|false|false'
KEADM_RESET_EDGE_FLAGS=''
# @end-keadm-profile

declare -A FLAG_TYPE=() FLAG_BY_SHORT=() FLAG_SHORT=() FLAG=() FLAG_SET=()
FLAG_ORDER=()
REQUIRED_FLAGS=()
COMMAND_PATH=keadm

fail() {
  echo "Error: $*" >&2
  exit 1
}

# ---- flag parsing (pflag semantics) ------------------------------------------------------------------------------

load_flag_spec() {
  local name short type default required
  while IFS='|' read -r name short type default required; do
    [[ -n "$name" ]] || continue
    FLAG_ORDER+=("$name")
    FLAG_TYPE[$name]=$type
    FLAG_SHORT[$name]=$short
    [[ -n "$short" ]] && FLAG_BY_SHORT[$short]=$name
    [[ "$required" == true ]] && REQUIRED_FLAGS+=("$name")
    FLAG[$name]=$default
  done <<<"$1"
}

usage() {
  local name short
  echo "Usage:"
  echo "  $COMMAND_PATH [flags]"
  echo
  echo "Flags:"
  for name in "${FLAG_ORDER[@]}"; do
    short=${FLAG_SHORT[$name]}
    if [[ -n "$short" ]]; then printf '  -%s, --%s %s\n' "$short" "$name" "${FLAG_TYPE[$name]}"; else
      printf '      --%s %s\n' "$name" "${FLAG_TYPE[$name]}"
    fi
  done
  echo "  -h, --help   help for ${COMMAND_PATH##* }"
}

usage_error() {
  echo "Error: $*" >&2
  usage >&2
  echo >&2
  exit 1
}

parse_bool() {
  case "$2" in
    1 | t | T | TRUE | true | True) printf true ;;
    0 | f | F | FALSE | false | False) printf false ;;
    *) usage_error "invalid argument \"$2\" for \"$1\" flag: strconv.ParseBool: parsing \"$2\": invalid syntax" ;;
  esac
}

set_flag() {
  local name=$1 shown=$2 value=$3
  case "${FLAG_TYPE[$name]}" in
    bool) FLAG[$name]=$(parse_bool "$shown" "$value") ;;
    stringSlice | stringArray)
      # The first use replaces the default, later uses append (pflag).
      if [[ -n "${FLAG_SET[$name]:-}" ]]; then FLAG[$name]+=",$value"; else FLAG[$name]=$value; fi
      ;;
    *) FLAG[$name]=$value ;;
  esac
  FLAG_SET[$name]=1
}

# Parses "$@" into FLAG/FLAG_SET; positional arguments are ignored like cobra's legacy arg validation does.
parse_flags() {
  local arg name value short rest
  while (($# > 0)); do
    arg=$1
    shift
    case "$arg" in
      --) break ;;
      -h | --help)
        usage
        exit 0
        ;;
      --*)
        name=${arg#--}
        name=${name%%=*}
        [[ -n "${FLAG_TYPE[$name]:-}" ]] || usage_error "unknown flag: --$name"
        if [[ "$arg" == *=* ]]; then
          set_flag "$name" "--$name" "${arg#*=}"
        elif [[ "${FLAG_TYPE[$name]}" == bool ]]; then
          set_flag "$name" "--$name" true
        else
          (($# > 0)) || usage_error "flag needs an argument: --$name"
          set_flag "$name" "--$name" "$1"
          shift
        fi
        ;;
      -?*)
        rest=${arg#-}
        while [[ -n "$rest" ]]; do
          short=${rest:0:1}
          rest=${rest:1}
          [[ "$short" == h ]] && { usage; exit 0; }
          name=${FLAG_BY_SHORT[$short]:-}
          [[ -n "$name" ]] || usage_error "unknown shorthand flag: '$short' in $arg"
          if [[ "$rest" == =* ]]; then
            set_flag "$name" "-$short" "${rest#=}"
            rest=
          elif [[ "${FLAG_TYPE[$name]}" == bool ]]; then
            set_flag "$name" "-$short" true
          elif [[ -n "$rest" ]]; then
            set_flag "$name" "-$short" "$rest"
            rest=
          else
            (($# > 0)) || usage_error "flag needs an argument: '$short' in -$short"
            set_flag "$name" "-$short" "$1"
            shift
          fi
        done
        ;;
      *) ;;
    esac
  done
  local missing=() required
  for required in "${REQUIRED_FLAGS[@]}"; do
    [[ -n "${FLAG_SET[$required]:-}" ]] || missing+=("\"$required\"")
  done
  if ((${#missing[@]} > 0)); then
    local IFS=' '
    usage_error "required flag(s) ${missing[*]} not set"
  fi
}

# A test hook (KEADM_STANDIN_PARSE_ONLY=1): print what was parsed and stop before touching the host.
exit_if_parse_only() {
  [[ "${KEADM_STANDIN_PARSE_ONLY:-}" == 1 ]] || return 0
  local name
  for name in "${FLAG_ORDER[@]}"; do
    if [[ -n "${FLAG_SET[$name]:-}" ]]; then printf '%s=%s\n' "$name" "${FLAG[$name]}"; fi
  done
  printf '%s\n' "$@"
  exit 0
}

# ---- versions ----------------------------------------------------------------------------------------------------

# blang/semver v3 Parse: what MustParse panics with on a bad --kubeedge-version (fork tags, upstream <= 1.10).
semver_parse_error() {
  local version=$1 part label
  local -a parts
  IFS=. read -r -a parts <<<"${version%%[-+]*}"
  if ((${#parts[@]} != 3)); then
    printf 'No Major.Minor.Patch elements found'
    return 0
  fi
  for label in major minor patch; do
    part=${parts[0]}
    parts=("${parts[@]:1}")
    if [[ ! "$part" =~ ^[0-9]+$ ]]; then
      printf 'Invalid character(s) found in %s number "%s"' "$label" "$part"
      return 0
    fi
  done
  return 1
}

# Prints the KubeEdge version to install, without the leading v.
resolve_kubeedge_version() {
  local wanted=${FLAG[kubeedge-version]:-} problem
  if [[ "$KEADM_VERSION_FORMAT" == no-v ]]; then
    [[ -n "$wanted" ]] || wanted=$KEADM_DEFAULT_KUBEEDGE_VERSION
    if problem=$(semver_parse_error "$wanted"); then
      echo "panic: $problem" >&2
      echo >&2
      echo "goroutine 1 [running]:" >&2
      echo "github.com/blang/semver.MustParse(...)" >&2
      exit 2
    fi
    printf '%s' "$wanted"
    return 0
  fi
  # Upstream >= 1.11 normalises ^v?X.Y.Z and silently falls back to its own version for anything else.
  if [[ "$wanted" =~ ^v?([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?)$ ]]; then
    printf '%s' "${BASH_REMATCH[1]}"
  else
    printf '%s' "${KEADM_VERSION#v}"
  fi
}

# ---- host facts --------------------------------------------------------------------------------------------------

download_arch() {
  local machine
  machine=$(uname -m)
  case "$machine" in
    x86_64) printf amd64 ;;
    aarch64) printf arm64 ;;
    armv7l) printf arm ;;
    *) fail "can't support this architecture of edge node: $machine" ;;
  esac
}

os_release_value() {
  local key=$1 k v
  [[ -f "$R/etc/os-release" ]] || return 0
  while IFS='=' read -r k v; do
    [[ "$k" == "$key" ]] && { v=${v#\"}; printf '%s' "${v%\"}"; return 0; }
  done <"$R/etc/os-release"
}

mirror_url() {
  if [[ -n "${SANDBOX_MIRROR_URL:-}" ]]; then printf '%s' "$SANDBOX_MIRROR_URL"; return 0; fi
  if [[ -f "$SANDBOX_STATE/mirror-url" ]]; then tr -d '\n' <"$SANDBOX_STATE/mirror-url"; return 0; fi
  printf 'http://127.0.0.1:8080'
}

edgecore_running() { systemctl is-active --quiet edgecore; }

# ---- join steps --------------------------------------------------------------------------------------------------

install_mqtt() {
  if systemctl is-active --quiet mosquitto; then
    echo "Host has mosquit+ already installed and running. Hence skipping the installation steps !!!"
    return 0
  fi
  case "$(os_release_value ID)" in
    ubuntu | debian) apt-get install -y --allow-change-held-packages --allow-downgrades mosquitto >/dev/null ;;
    centos | rhel) yum -y install mosquitto >/dev/null ;;
    *) fail "this OS version is currently un-supported by keadm, $(os_release_value ID)" ;;
  esac
  echo "install MQTT service successfully."
}

download_kubeedge() {
  local version=$1 arch=$2 base name url
  name="kubeedge-v$version-linux-$arch.tar.gz"
  base=$(mirror_url)
  if [[ "$KEADM_FAMILY" == fork && "${FLAG[region]:-}" != en ]]; then
    url="$base/bin/v$version/$arch"
  else
    url="$base/kubeedge/kubeedge/releases/download/v$version"
  fi
  mkdir -p "$R/etc/kubeedge"
  cd "$R/etc/kubeedge"
  command -v wget >/dev/null || fail "fail to download the file $name: /bin/sh: 1: wget: not found"
  if ! wget -q -O "checksum_$name.txt" "$url/checksum_$name.txt"; then
    fail "failed to get checksum of $name from $url/checksum_$name.txt"
  fi
  echo "$name checksum: $(cat "checksum_$name.txt")"
  if [[ -f "$name" ]] && [[ "$(sha512sum "$name" | cut -d' ' -f1)" == "$(cat "checksum_$name.txt")" ]]; then
    echo "Expected or Default KubeEdge version $version is already downloaded and will checksum for it."
  else
    rm -f "$name"
    wget -q -k --no-check-certificate "$url/$name" || fail "failed to download $url/$name"
    [[ "$(sha512sum "$name" | cut -d' ' -f1)" == "$(cat "checksum_$name.txt")" ]] ||
      fail "failed to verify the checksum of file $name"
  fi
  command -v tar >/dev/null || fail "fail to extract $name: tar: command not found"
  tar -xzf "$name"
  mkdir -p "$R/usr/local/bin"
  install -m 0755 "kubeedge-v$version-linux-$arch/edge/edgecore" "$R/usr/local/bin/edgecore"
  cd - >/dev/null
}

split_cloudcore_host() {
  local ipport=${FLAG[cloudcore-ipport]}
  [[ "$ipport" == *:* ]] || fail "cloudcore-ipport must be <ip>:<port>, got $ipport"
  printf '%s' "${ipport%:*}"
}

node_name() {
  local name=${FLAG[edgenode-name]:-}
  [[ -n "$name" ]] || name=$(sandbox_trait HOSTNAME)
  [[ -n "$name" ]] || name=$(hostname)
  printf '%s' "${name,,}"
}

node_ip() {
  local ip=${FLAG[edgenode-ip]:-}
  [[ -n "$ip" ]] || ip=$(hostname -I 2>/dev/null | cut -d' ' -f1)
  printf '%s' "${ip:-127.0.0.1}"
}

write_edgecore_config() {
  local version=$1 host name ip certport quicport tunnelport taint
  host=$(split_cloudcore_host)
  name=$(node_name)
  ip=$(node_ip)
  certport=${FLAG[certport]:-10002}
  quicport=${FLAG[quicport]:-10001}
  tunnelport=${FLAG[tunnelport]:-10004}
  taint=${FLAG[with-edge-taint]:-false}
  mkdir -p "$R/etc/kubeedge/config" "$R/var/lib/kubeedge" "$R/var/log/kubeedge"
  cat >"$R/etc/kubeedge/config/edgecore.yaml" <<YAML
apiVersion: edgecore.config.kubeedge.io/v1alpha1
kind: EdgeCore
database:
  dataSource: /var/lib/kubeedge/edgecore.db
modules:
  edgeHub:
    httpServer: https://$host:$certport
    token: ${FLAG[token]:-}
    quic:
      server: $host:$quicport
    websocket:
      enable: true
      server: ${FLAG[cloudcore-ipport]}
  edged:
    hostnameOverride: $name
    nodeIP: $ip
    cgroupDriver: ${FLAG[cgroupdriver]:-cgroupfs}
    runtimeType: ${FLAG[runtimetype]:-docker}
    remoteRuntimeEndpoint: ${FLAG[remote-runtime-endpoint]:-unix:///var/run/dockershim.sock}
    rootDirectory: /var/lib/edged
    taints: $([[ "$taint" == true ]] && echo '[{key: node-role.kubernetes.io/edge, effect: NoSchedule}]' || echo '[]')
  edgeStream:
    enable: true
    server: $host:$tunnelport
  eventBus:
    mqttMode: 2
    mqttServerExternal: tcp://127.0.0.1:1883
YAML
  # What the edgecore stand-in reads back (a real edgecore parses the YAML above; bash should not).
  cat >"$R/etc/kubeedge/config/sandbox-edgecore.env" <<ENV
NODE_NAME=$name
NODE_IP=$ip
CLOUDHUB=${FLAG[cloudcore-ipport]}
CERT_SERVER=$host:$certport
KUBEEDGE_VERSION=v$version
WITH_EDGE_TAINT=$taint
LABELS=${FLAG[labels]:-}
TOKEN=${FLAG[token]:-}
ENV
  chmod 0600 "$R/etc/kubeedge/config/sandbox-edgecore.env" "$R/etc/kubeedge/config/edgecore.yaml"
  : >"$R/var/lib/kubeedge/edgecore.db"
}

install_edgecore_service() {
  mkdir -p "$R/etc/systemd/system"
  cat >"$R/etc/systemd/system/edgecore.service" <<'UNIT'
[Unit]
Description=edgecore.service

[Service]
Type=simple
ExecStart=/usr/local/bin/edgecore
Restart=always
RestartSec=10
X-SandboxNotify=yes

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable edgecore >/dev/null
  systemctl start edgecore || fail "failed to start edgecore.service, see above"
}

run_join() {
  COMMAND_PATH="keadm join"
  load_flag_spec "$KEADM_JOIN_FLAGS"
  parse_flags "$@"
  local version arch
  version=$(resolve_kubeedge_version)
  exit_if_parse_only "resolved-kubeedge-version=$version"
  if edgecore_running; then
    fail "EdgeCore is already running on this host, please run reset to clean up first"
  fi
  arch=$(download_arch)
  echo "KubeEdge version: v$version, arch: $arch"
  if [[ "$KEADM_FAMILY" != upstream ]]; then
    install_mqtt
  elif [[ "${FLAG[with-mqtt]:-false}" == true ]] && command -v docker >/dev/null; then
    # Upstream runs the broker as a container; the runtime stand-in records the pull.
    docker pull eclipse-mosquitto:1.6.15 >/dev/null
  fi
  download_kubeedge "$version" "$arch"
  write_edgecore_config "$version"
  install_edgecore_service
  echo "KubeEdge edgecore is running, For logs visit: journalctl -u edgecore.service -b"
}

# ---- reset steps -------------------------------------------------------------------------------------------------

confirm_reset() {
  [[ -n "${FLAG_TYPE[force]:-}" ]] || return 0
  [[ "${FLAG[force]}" == true ]] && return 0
  echo "[reset] WARNING: Changes made to this host by 'keadm init' or 'keadm join' will be reverted."
  printf '[reset] Are you sure you want to proceed? [y/N]: '
  local answer=
  read -r answer || true
  echo
  case "$answer" in
    y | Y | yes | Yes | YES) ;;
    *) fail "aborted reset operation" ;;
  esac
}

remove_k8s_containers() {
  command -v docker >/dev/null || return 0
  local ids
  ids=$(docker ps -aq --filter name=k8s_ 2>/dev/null) || return 0
  [[ -z "$ids" ]] || xargs docker rm -f <<<"$ids" >/dev/null || true
}

# Removes the contents of a directory like kubeadm's CleanDir: what is busy (a mounted tmpfs) stays.
clean_dir() {
  local dir=$1 entry
  [[ -d "$dir" ]] || return 0
  for entry in "$dir"/* "$dir"/.[!.]*; do
    [[ -e "$entry" || -L "$entry" ]] || continue
    rm -rf "$entry" 2>/dev/null || echo "Failed to delete directory ${dir#"$R"}: unlinkat ${entry#"$R"}: device or resource busy"
  done
}

run_reset() {
  COMMAND_PATH="keadm reset"
  if [[ "${1:-}" == edge && "$KEADM_RESET_SUBCOMMANDS" == true ]]; then
    COMMAND_PATH="keadm reset edge"
    shift
    load_flag_spec "$KEADM_RESET_EDGE_FLAGS"
  else
    load_flag_spec "$KEADM_RESET_FLAGS"
  fi
  parse_flags "$@"
  exit_if_parse_only
  confirm_reset
  if ! edgecore_running; then
    echo "None of KubeEdge components are running in this host, exit"
    return 0
  fi
  systemctl stop edgecore
  systemctl disable edgecore >/dev/null 2>&1 || true
  rm -f "$R/etc/systemd/system/edgecore.service"
  remove_k8s_containers
  local dir
  for dir in /etc/kubeedge /var/log/kubeedge /var/lib/kubeedge /var/lib/edged; do
    clean_dir "$R$dir"
  done
  echo "[reset] edge node reset completed"
}

redacted_args() {
  local hide=false arg
  for arg in "$@"; do
    if $hide; then printf '%s\n' '<redacted>'; hide=false; continue; fi
    case "$arg" in
      --token=* | -t=*) printf '%s\n' "${arg%%=*}=<redacted>" ;;
      --token | -t) printf '%s\n' "$arg"; hide=true ;;
      *) printf '%s\n' "$arg" ;;
    esac
  done
}

main() {
  local logged=()
  mapfile -t logged < <(redacted_args "$@")
  sandbox_log keadm "${logged[@]}"
  case "${1:-}" in
    join) run_join "${@:2}" ;;
    reset) run_reset "${@:2}" ;;
    version) echo "version: version.Info{Major:\"1\", GitVersion:\"$KEADM_VERSION\", Platform:\"linux/$(download_arch)\"}" ;;
    "" | -h | --help | help) echo "keadm $KEADM_VERSION: join, reset, version (sandbox stand-in)" ;;
    *)
      echo "Error: unknown command \"$1\" for \"keadm\"" >&2
      echo "Run 'keadm --help' for usage." >&2
      exit 1
      ;;
  esac
}

main "$@"
