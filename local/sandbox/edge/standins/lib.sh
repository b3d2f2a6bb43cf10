#!/usr/bin/env bash
# Shared helpers of the sandbox stand-ins. Inlined into each stand-in when it is installed, so an installed
# stand-in is one self-contained file, like the real binary it replaces.
#
# Every path is prefixed with $R: empty inside an edge host's mount namespace (the host's own /etc, /var and /usr
# are overlays there), the host root directory in the portable fallback mode (SANDBOX_HOST_ROOT). Never write to a
# path without $R: in fallback mode that would change the real machine.

R="${SANDBOX_HOST_ROOT:-}"
SANDBOX_STATE="$R/var/lib/sandbox"

# Appends one line (UTC time + the command line, shell-quoted) to $R/var/log/sandbox/<tool>.log for tests to read.
# Builtins only (no mkdir, no date when the directory exists): every stand-in call logs, and a join makes dozens.
sandbox_log() {
  local tool=$1
  shift
  [[ -d "$R/var/log/sandbox" ]] || mkdir -p "$R/var/log/sandbox"
  local line args
  local -x TZ=UTC
  printf -v line '%(%Y-%m-%dT%H:%M:%SZ)T %s' -1 "$tool"
  if (($# > 0)); then
    printf -v args '%q ' "$@"
    line+=" ${args% }"
  fi
  printf '%s\n' "$line" >>"$R/var/log/sandbox/$tool.log"
}

# Prints the value of KEY from the host traits file written at provisioning (empty when absent).
sandbox_trait() {
  local key=$1 k v
  [[ -f "$SANDBOX_STATE/traits.env" ]] || return 0
  while IFS='=' read -r k v; do
    if [[ "$k" == "$key" ]]; then
      printf '%s' "$v"
      return 0
    fi
  done <"$SANDBOX_STATE/traits.env"
}

# Prints the first of the given real machine paths that is executable (for stand-ins that delegate).
sandbox_real_tool() {
  local candidate
  for candidate in "$@"; do
    if [[ -x "$candidate" ]]; then
      printf '%s' "$candidate"
      return 0
    fi
  done
  return 1
}

# True when mounting changes only this host: the sandbox marks hosts that have a mount namespace of their own
# (PRIVATE_MOUNTS_MARKER in local/sandbox/edge/index.ts).
# Never in fallback mode (SANDBOX_HOST_ROOT set), whose mounts would land in the real mount table.
sandbox_private_mounts() {
  [[ -z "$R" && -f /var/lib/sandbox/private-mounts ]]
}

# Package state: one package name per line in $SANDBOX_STATE/packages.list.
sandbox_pkg_installed() {
  [[ -f "$SANDBOX_STATE/packages.list" ]] && grep -qxF -- "$1" "$SANDBOX_STATE/packages.list"
}

sandbox_pkg_add() {
  mkdir -p "$SANDBOX_STATE"
  sandbox_pkg_installed "$1" || printf '%s\n' "$1" >>"$SANDBOX_STATE/packages.list"
}

sandbox_pkg_remove() {
  local list="$SANDBOX_STATE/packages.list"
  [[ -f "$list" ]] || return 0
  grep -vxF -- "$1" "$list" >"$list.tmp" || true
  mv "$list.tmp" "$list"
}

# Package side effects shared by apt-get and yum: what the distribution package installs and starts.
sandbox_pkg_post_install() {
  case "$1" in
    mosquitto)
      mkdir -p "$R/usr/sbin" "$R/lib/systemd/system" "$R/etc/mosquitto"
      install -m 0755 "$SANDBOX_STATE/payload/mosquitto" "$R/usr/sbin/mosquitto"
      printf '%s\n' 'pid_file /run/mosquitto/mosquitto.pid' 'persistence true' >"$R/etc/mosquitto/mosquitto.conf"
      cat >"$R/lib/systemd/system/mosquitto.service" <<'UNIT'
[Unit]
Description=Mosquitto MQTT Broker

[Service]
ExecStart=/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf

[Install]
WantedBy=multi-user.target
UNIT
      # Debian's and EPEL's packages both enable and start the broker.
      systemctl enable mosquitto >/dev/null 2>&1 || true
      systemctl start mosquitto
      ;;
  esac
}

sandbox_pkg_post_remove() {
  local purge=$2
  case "$1" in
    mosquitto)
      systemctl stop mosquitto >/dev/null 2>&1 || true
      systemctl disable mosquitto >/dev/null 2>&1 || true
      rm -f "$R/usr/sbin/mosquitto" "$R/lib/systemd/system/mosquitto.service"
      if [[ "$purge" == true ]]; then rm -rf "$R/etc/mosquitto"; fi
      ;;
  esac
}
