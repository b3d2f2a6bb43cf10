#!/usr/bin/env bash
# Resets a KubeEdge edge host: KubeSphere's manual "remove an edge node" steps (移除边缘节点), completed and checked.
#
#   0. check the host is the node's: edgecore's configured node name must be NODE_NAME, else refuse (exit 5)
#      unless FORCE_HOST names this very host
#   1. keadm reset (flags per keadm version; skipped when keadm is gone, e.g. a join that failed to download it)
#   2. stop and disable edgecore.service (what keadm reset does, done again for when keadm could not)
#   3. stop and remove mosquitto with the host's package manager, only when it is installed
#   4. unmount everything under /var/lib/edged and /var/lib/kubeedge, deepest first; lazy unmount as a last resort
#   5. undo the EdgeMesh preparation the join recorded (nsswitch.conf, the ip_forward drop-in and value)
#   6. remove the KubeEdge directories, edgecore, the edgecore unit, keadm and edgekeeper's own directory
#   7. verify nothing is left, and print one machine-readable line:
#        EDGEKEEPER_RESET_REPORT {"clean":true,"removed":[…],"leftovers":[…],"unmounted":[…],…}
#
# Idempotent: on a clean host every step finds nothing to do and the report says clean.
# Rendered by functions/shared/reset-script.ts, which replaces the block between the `edgekeeper:values` markers.
#
# Exit codes:
#   0  the host is clean (the report says so)
#   3  something is left after the reset (listed under "leftovers" in the report)
#   4  not run as root (no report; nothing was changed)
#   5  edgecore on this host is configured for another node (no report; nothing was changed)
#   1  unexpected failure of the script itself (no report)
set -euo pipefail

# edgekeeper:values:begin
# the node being removed, and the SSM managed instance this script was sent to
NODE_NAME=edge-example
INSTANCE_ID=mi-00000000000000000
# reset even when edgecore here serves another node: must equal INSTANCE_ID (empty: never)
FORCE_HOST=''
# keadm arguments that reset an edge host for the keadm version installed (functions/shared/keadm/reset.ts)
KEADM_RESET_ARGS=(reset --force)
# edgekeeper's own directory on the host (join-edge-node.sh keeps keadm and its download there): removed whole
EDGEKEEPER_DIR=/opt/edgekeeper
# other places keadm and its downloaded tarballs may lie (KubeSphere's manual procedure puts keadm on PATH)
KEADM_DIRS=(/usr/local/bin)
# bound on keadm reset, which stops containers and may hang on a wedged runtime
KEADM_TIMEOUT_SECONDS=300
# false when the MQTT broker is not ours to remove (upstream keadm runs it as a container)
REMOVE_MOSQUITTO=true
# edgekeeper:values:end

readonly REPORT_PREFIX=EDGEKEEPER_RESET_REPORT
readonly EXIT_LEFTOVERS=3
readonly EXIT_NOT_ROOT=4
readonly EXIT_OTHER_NODE=5
# keadm join writes the node name (--edgenode-name) into edgecore's configuration as modules.edged.hostnameOverride
readonly EDGECORE_CONFIG=/etc/kubeedge/config/edgecore.yaml
# Mount roots: kubelet-style volumes (tmpfs secrets, bind mounts) live under these and make `rm -rf` fail with EBUSY.
readonly MOUNT_ROOTS=(/var/lib/edged /var/lib/kubeedge)
# Written by join-edge-node.sh before it changed anything for EdgeMesh; only what it changed is restored.
readonly EDGEMESH_STATE=/var/lib/edgekeeper/edgemesh
readonly EDGEMESH_DROPIN=/etc/sysctl.d/90-edgekeeper-edgemesh.conf
# What keadm join leaves behind, and what keadm reset does not remove.
readonly KUBEEDGE_PATHS=(
  /var/lib/kubeedge
  /var/lib/edged
  /etc/kubeedge
  /var/log/kubeedge
  /usr/local/bin/edgecore
  /etc/systemd/system/edgecore.service
  /etc/systemd/system/multi-user.target.wants/edgecore.service
  /lib/systemd/system/edgecore.service
  /usr/lib/systemd/system/edgecore.service
)
# Unmount passes: lazily detached or stacked mounts can reveal others below them; a few passes settle it.
readonly MAX_UNMOUNT_PASSES=5

KEADM_STATE=absent
EDGECORE_STATE=absent
MOSQUITTO_STATE=absent
EDGEMESH_RESULT=absent
REMOVED=()
UNMOUNTED=()
LAZY_UNMOUNTED=()
LEFTOVERS=()

say() {
  printf 'edgekeeper: %s\n' "$*"
}

require_root() {
  if ((EUID != 0)); then
    say "preflight: must run as root (uid $EUID)"
    exit "$EXIT_NOT_ROOT"
  fi
}

# Prints the node name edgecore on this host is configured for: modules.edged.hostnameOverride (keadm join writes
# --edgenode-name there), else the host name, which edgecore falls back to; nothing when there is no configuration.
configured_node_name() {
  local name
  [[ -f "$EDGECORE_CONFIG" ]] || return 0
  name=$(sed -n -E "s/^[[:space:]]*hostnameOverride:[[:space:]]*[\"']?([^\"'[:space:]#]*).*$/\1/p" "$EDGECORE_CONFIG" | head -n 1)
  if [[ -z "$name" ]]; then name=$(hostname | tr '[:upper:]' '[:lower:]'); fi
  printf '%s\n' "$name"
}

# Refuses, before changing anything, a host whose edgecore serves another node: a stale record must never reset the
# host of a node that is alive. A host without edgecore's configuration holds nothing of any node.
require_owner() {
  local configured
  configured=$(configured_node_name)
  if [[ -z "$configured" ]]; then
    say "owner: no edgecore configuration on this host, nothing of another node here"
  elif [[ "$configured" == "$NODE_NAME" ]]; then
    say "owner: edgecore on this host is configured for node $NODE_NAME"
  elif [[ -n "$FORCE_HOST" && "$FORCE_HOST" == "$INSTANCE_ID" ]]; then
    say "owner: edgecore on this host is configured for node $configured, not $NODE_NAME: resetting anyway, forced for host $INSTANCE_ID"
  else
    # on stderr too: a failed command's error names its stderr tail
    say "owner: refused: edgecore on host $INSTANCE_ID is configured for node $configured, not $NODE_NAME; nothing was changed"
    say "owner: refused: edgecore on host $INSTANCE_ID is configured for node $configured, not $NODE_NAME; nothing was changed" >&2
    exit "$EXIT_OTHER_NODE"
  fi
}

# Prints the first keadm found in EDGEKEEPER_DIR/bin, KEADM_DIRS, then on PATH; nothing when there is none.
find_keadm() {
  local dir
  for dir in "$EDGEKEEPER_DIR/bin" "${KEADM_DIRS[@]}"; do
    if [[ -x "$dir/keadm" && -f "$dir/keadm" ]]; then
      printf '%s\n' "$dir/keadm"
      return 0
    fi
  done
  command -v keadm || true
}

# keadm reset only acts when edgecore runs, and its output is long: keep the last lines so the report stays within
# the 24,000 characters SSM returns. stdin is /dev/null so a confirmation prompt reads EOF instead of hanging.
reset_with_keadm() {
  local keadm log rc=0
  keadm=$(find_keadm)
  if [[ -z "$keadm" ]]; then
    say "keadm: not found, cleaning up without it"
    return 0
  fi
  log=$(mktemp)
  say "keadm: running $keadm ${KEADM_RESET_ARGS[*]}"
  if command -v timeout >/dev/null 2>&1; then
    timeout "$KEADM_TIMEOUT_SECONDS" "$keadm" "${KEADM_RESET_ARGS[@]}" </dev/null >"$log" 2>&1 || rc=$?
  else
    "$keadm" "${KEADM_RESET_ARGS[@]}" </dev/null >"$log" 2>&1 || rc=$?
  fi
  tail -n 20 "$log" | sed 's/^/edgekeeper: keadm: | /'
  rm -f "$log"
  if ((rc == 0)); then
    KEADM_STATE=reset
    say "keadm: reset done"
  else
    # Not fatal: the following steps do by hand what keadm reset does, and the verification is the judge.
    KEADM_STATE=failed
    say "keadm: reset exited with $rc, continuing by hand"
  fi
}

has_systemctl() {
  command -v systemctl >/dev/null 2>&1
}

edgecore_unit_present() {
  local unit
  for unit in /etc/systemd/system/edgecore.service /lib/systemd/system/edgecore.service \
    /usr/lib/systemd/system/edgecore.service; do
    if [[ -e "$unit" ]]; then return 0; fi
  done
  return 1
}

stop_edgecore() {
  if ! edgecore_unit_present; then
    say "edgecore: no edgecore.service unit"
    return 0
  fi
  if ! has_systemctl; then
    say "edgecore: unit present but systemctl is missing, removing the unit file only"
    return 0
  fi
  systemctl stop edgecore.service >/dev/null 2>&1 || true
  systemctl disable edgecore.service >/dev/null 2>&1 || true
  EDGECORE_STATE=stopped
  say "edgecore: edgecore.service stopped and disabled"
}

# Prints debian, rhel or unknown, from ID and ID_LIKE in /etc/os-release (read, not sourced: it is data).
package_family() {
  local key value ids=""
  if [[ -r /etc/os-release ]]; then
    while IFS='=' read -r key value; do
      value=${value//\"/}
      case "$key" in
        ID | ID_LIKE) ids+=" $value" ;;
      esac
    done </etc/os-release
  fi
  case " $ids " in
    *" debian "* | *" ubuntu "*) echo debian ;;
    *" rhel "* | *" centos "* | *" fedora "*) echo rhel ;;
    *)
      if command -v dpkg >/dev/null 2>&1; then
        echo debian
      elif command -v rpm >/dev/null 2>&1; then
        echo rhel
      else
        echo unknown
      fi
      ;;
  esac
}

# Whether the package manager of the family knows mosquitto as installed (or, for dpkg, as leftover config files).
mosquitto_installed() {
  local family=$1 status
  case "$family" in
    debian)
      status=$(dpkg -s mosquitto 2>/dev/null) || return 1
      [[ "$status" == *"ok installed"* || "$status" == *"config-files"* ]]
      ;;
    rhel) rpm -q mosquitto >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

remove_mosquitto() {
  local family
  if [[ "$REMOVE_MOSQUITTO" != true ]]; then
    MOSQUITTO_STATE=kept
    say "mosquitto: left in place (not installed by this keadm)"
    return 0
  fi
  family=$(package_family)
  if ! mosquitto_installed "$family"; then
    say "mosquitto: not installed ($family)"
    return 0
  fi
  if has_systemctl; then
    systemctl stop mosquitto.service >/dev/null 2>&1 || true
  fi
  case "$family" in
    debian) DEBIAN_FRONTEND=noninteractive apt-get purge -y mosquitto || true ;;
    rhel)
      if command -v yum >/dev/null 2>&1; then yum remove -y mosquitto || true; else dnf remove -y mosquitto || true; fi
      ;;
  esac
  if mosquitto_installed "$family"; then
    MOSQUITTO_STATE=failed
    say "mosquitto: still installed after removal"
  else
    MOSQUITTO_STATE=removed
    say "mosquitto: removed ($family)"
  fi
}

is_under_mount_roots() {
  local path=$1 root
  for root in "${MOUNT_ROOTS[@]}"; do
    if [[ "$path" == "$root" || "$path" == "$root"/* ]]; then return 0; fi
  done
  return 1
}

# Prints the mount points under MOUNT_ROOTS, deepest first, still octal-escaped as in /proc/self/mountinfo (field 5;
# the kernel writes space, tab, newline and backslash as \040 \011 \012 \134, so a line never breaks inside a path).
# Ties are ordered by byte value so the order is stable; functions/shared/reset-script.ts unmountOrder mirrors this.
list_mounts() {
  local _id _parent _device _root mount_point _rest slashes
  while read -r _id _parent _device _root mount_point _rest; do
    if is_under_mount_roots "$mount_point"; then
      slashes=${mount_point//[!\/]/}
      printf '%d %s\n' "${#slashes}" "$mount_point"
    fi
  done </proc/self/mountinfo | LC_ALL=C sort -k1,1nr -k2,2 | cut -d ' ' -f 2-
}

# Decodes the octal escapes of a mountinfo path (printf %b reads \ooo; mountinfo writes no other escape).
decode_mount_point() {
  printf '%b' "$1"
}

unmount_all() {
  local pass escaped path mounts=()
  for ((pass = 1; pass <= MAX_UNMOUNT_PASSES; pass++)); do
    mapfile -t mounts < <(list_mounts)
    ((${#mounts[@]} > 0)) || break
    for escaped in "${mounts[@]}"; do
      path=$(decode_mount_point "$escaped")
      if umount "$path" 2>/dev/null; then
        UNMOUNTED+=("$path")
        say "unmount: $path"
      elif umount -l "$path" 2>/dev/null; then
        UNMOUNTED+=("$path")
        LAZY_UNMOUNTED+=("$path")
        say "unmount: $path was busy, detached lazily"
      else
        say "unmount: $path could not be unmounted"
      fi
    done
  done
  ((${#UNMOUNTED[@]} > 0)) || say "unmount: nothing mounted under ${MOUNT_ROOTS[*]}"
}

# Prints keadm, its tarballs and unpacked directories in KEADM_DIRS (fork: keadm-v1.6.1-linux-amd64.tar.gz).
restore_edgemesh() {
  EDGEMESH_RESULT=absent
  if [[ ! -d "$EDGEMESH_STATE" ]]; then
    say "edgemesh: nothing recorded, nothing to restore"
    return 0
  fi
  if [[ -f "$EDGEMESH_STATE/nsswitch.conf.orig" ]]; then
    # in place, like the join: keeps owner, mode and any bind mount
    cat "$EDGEMESH_STATE/nsswitch.conf.orig" >/etc/nsswitch.conf
    say "edgemesh: restored /etc/nsswitch.conf"
  elif [[ -f "$EDGEMESH_STATE/nsswitch.conf.absent" ]]; then
    rm -f /etc/nsswitch.conf
    say "edgemesh: removed /etc/nsswitch.conf, which the join created"
  fi
  if [[ -f "$EDGEMESH_STATE/sysctl-dropin.orig" ]]; then
    cat "$EDGEMESH_STATE/sysctl-dropin.orig" >"$EDGEMESH_DROPIN"
    say "edgemesh: restored $EDGEMESH_DROPIN"
  elif [[ -f "$EDGEMESH_STATE/sysctl-dropin.created" ]]; then
    rm -f "$EDGEMESH_DROPIN"
    say "edgemesh: removed $EDGEMESH_DROPIN"
  fi
  if [[ -f "$EDGEMESH_STATE/ip_forward.orig" ]]; then
    sysctl -q -w "net.ipv4.ip_forward=$(cat "$EDGEMESH_STATE/ip_forward.orig")" >/dev/null
    say "edgemesh: net.ipv4.ip_forward back to $(cat "$EDGEMESH_STATE/ip_forward.orig")"
  fi
  rm -rf "$(dirname "$EDGEMESH_STATE")"
  EDGEMESH_RESULT=restored
}

keadm_files() {
  local dir file
  for dir in "${KEADM_DIRS[@]}"; do
    for file in "$dir/keadm" "$dir"/keadm-v*-linux-*; do
      if [[ -e "$file" || -L "$file" ]]; then printf '%s\n' "$file"; fi
    done
  done
}

remove_files() {
  local path paths=() units_removed=false
  paths=("${KUBEEDGE_PATHS[@]}" "$EDGEKEEPER_DIR")
  mapfile -t -O "${#paths[@]}" paths < <(keadm_files)
  for path in "${paths[@]}"; do
    [[ -e "$path" || -L "$path" ]] || continue
    if rm -rf -- "$path"; then
      REMOVED+=("$path")
      if [[ "$path" == *.service ]]; then units_removed=true; fi
      say "remove: $path"
    else
      say "remove: $path could not be removed"
    fi
  done
  ((${#REMOVED[@]} > 0)) || say "remove: nothing to remove"
  if [[ "$units_removed" == true ]] && has_systemctl; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    systemctl reset-failed edgecore.service >/dev/null 2>&1 || true
  fi
}

verify() {
  local path escaped
  for path in "${KUBEEDGE_PATHS[@]}" "$EDGEKEEPER_DIR" "$EDGEMESH_STATE"; do
    if [[ -e "$path" || -L "$path" ]]; then LEFTOVERS+=("$path"); fi
  done
  while IFS= read -r path; do
    LEFTOVERS+=("$path")
  done < <(keadm_files)
  while IFS= read -r escaped; do
    LEFTOVERS+=("mount:$(decode_mount_point "$escaped")")
  done < <(list_mounts)
  if has_systemctl && systemctl is-active --quiet edgecore.service 2>/dev/null; then
    LEFTOVERS+=("service:edgecore.service")
  fi
  if [[ "$MOSQUITTO_STATE" == failed ]]; then
    LEFTOVERS+=("package:mosquitto")
  fi
  if ((${#LEFTOVERS[@]} > 0)); then
    say "verify: ${#LEFTOVERS[@]} left: ${LEFTOVERS[*]}"
  else
    say "verify: clean"
  fi
}

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/\\r}
  printf '"%s"' "$s"
}

json_array() {
  local item separator=""
  printf '['
  for item in "$@"; do
    printf '%s' "$separator"
    json_string "$item"
    separator=,
  done
  printf ']'
}

# One line, last on stdout: parseResetReport in functions/shared/reset-script.ts reads it. Arrays are expanded with the
# ${a[@]+…} form because bash 4.2 (CentOS 7) treats an empty "${a[@]}" as unbound under set -u.
report() {
  local clean=true
  ((${#LEFTOVERS[@]} == 0)) || clean=false
  printf '%s {"version":1,"clean":%s,"keadm":"%s","edgecore":"%s","mosquitto":"%s","edgemesh":"%s","removed":%s,"unmounted":%s,"lazyUnmounted":%s,"leftovers":%s}\n' \
    "$REPORT_PREFIX" "$clean" "$KEADM_STATE" "$EDGECORE_STATE" "$MOSQUITTO_STATE" "$EDGEMESH_RESULT" \
    "$(json_array ${REMOVED[@]+"${REMOVED[@]}"})" \
    "$(json_array ${UNMOUNTED[@]+"${UNMOUNTED[@]}"})" \
    "$(json_array ${LAZY_UNMOUNTED[@]+"${LAZY_UNMOUNTED[@]}"})" \
    "$(json_array ${LEFTOVERS[@]+"${LEFTOVERS[@]}"})"
}

main() {
  require_root
  require_owner
  reset_with_keadm
  stop_edgecore
  remove_mosquitto
  unmount_all
  restore_edgemesh
  remove_files
  verify
  report
  ((${#LEFTOVERS[@]} == 0)) || exit "$EXIT_LEFTOVERS"
}

main "$@"
