#!/usr/bin/env bash
# systemctl stand-in: unit state lives in $R/var/lib/sandbox/systemd, unit files under the host's own
# /etc/systemd/system and /lib/systemd/system. Units run nothing; a unit whose [Service] carries
# `X-SandboxNotify=yes` has its ExecStart program called with --sandbox-notify=started|stopped, which is how the
# edgecore stand-in tells cloudcore it connected or went away (real systemd ignores X- keys).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

UNITS="$SANDBOX_STATE/systemd"
QUIET=false

# The helpers below set the variable named by their last argument instead of printing: no subshell per call (a
# join calls systemctl a dozen times, and each process counts on a small host).

# Sets variable $2 to unit $1, with `.service` when $1 names no unit type.
unit_name() {
  if [[ "$1" == *.* ]]; then printf -v "$2" '%s' "$1"; else printf -v "$2" '%s.service' "$1"; fi
}

# Sets variable $2 (when given) to the file of unit $1; fails when there is none.
unit_file() {
  local dir
  for dir in "$R/etc/systemd/system" "$R/lib/systemd/system" "$R/usr/lib/systemd/system"; do
    if [[ -f "$dir/$1" ]]; then
      [[ -z ${2:-} ]] || printf -v "$2" '%s' "$dir/$1"
      return 0
    fi
  done
  return 1
}

is_active() { [[ -f "$UNITS/$1.active" ]]; }
is_enabled() { [[ -f "$UNITS/$1.enabled" ]]; }

notify_unit() {
  local unit=$1 event=$2 file line notify=false exec_start=''
  unit_file "$unit" file || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line == 'X-SandboxNotify=yes' ]] && notify=true
    [[ -z $exec_start && $line == ExecStart=* ]] && exec_start=${line#ExecStart=}
  done <"$file"
  $notify || return 0
  exec_start=${exec_start%% *}
  "$R$exec_start" "--sandbox-notify=$event"
}

start_unit() {
  local unit
  unit_name "$1" unit
  if ! unit_file "$unit"; then
    echo "Failed to start $unit: Unit $unit not found." >&2
    return 5
  fi
  is_active "$unit" && return 0
  if ! notify_unit "$unit" started; then
    echo "Job for $unit failed because the control process exited with error code." >&2
    echo "See \"systemctl status $unit\" and \"journalctl -xe\" for details." >&2
    return 1
  fi
  [[ -d "$UNITS" ]] || mkdir -p "$UNITS"
  local -x TZ=UTC
  printf '%(%Y-%m-%dT%H:%M:%SZ)T\n' -1 >"$UNITS/$unit.active"
}

stop_unit() {
  local unit
  unit_name "$1" unit
  if ! unit_file "$unit" && ! is_active "$unit"; then
    echo "Failed to stop $unit: Unit $unit not loaded." >&2
    return 5
  fi
  if is_active "$unit"; then
    notify_unit "$unit" stopped || true
    rm -f "$UNITS/$unit.active"
  fi
}

enable_unit() {
  local unit file
  unit_name "$1" unit
  if ! unit_file "$unit" file; then
    echo "Failed to enable unit: Unit file $unit does not exist." >&2
    return 1
  fi
  [[ -d "$UNITS" ]] || mkdir -p "$UNITS"
  if ! is_enabled "$unit"; then
    : >>"$UNITS/$unit.enabled"
    $QUIET || echo "Created symlink /etc/systemd/system/multi-user.target.wants/$unit → ${file#"$R"}."
  fi
}

disable_unit() {
  local unit
  unit_name "$1" unit
  if is_enabled "$unit"; then
    rm -f "$UNITS/$unit.enabled"
    $QUIET || echo "Removed /etc/systemd/system/multi-user.target.wants/$unit."
  fi
  return 0
}

status_unit() {
  local unit file
  unit_name "$1" unit
  if ! unit_file "$unit" file; then
    echo "Unit $unit could not be found." >&2
    return 4
  fi
  echo "● $unit"
  echo "     Loaded: loaded (${file#"$R"}; $(is_enabled "$unit" && echo enabled || echo disabled))"
  if is_active "$unit"; then
    echo "     Active: active (running) since $(cat "$UNITS/$unit.active")"
    return 0
  fi
  echo "     Active: inactive (dead)"
  return 3
}

for_each_unit() {
  local action=$1 unit rc=0
  shift
  for unit in "$@"; do
    "$action" "$unit" || rc=$?
  done
  return "$rc"
}

main() {
  sandbox_log systemctl "$@"
  local now=false args=() arg
  for arg in "$@"; do
    case "$arg" in
      --now) now=true ;;
      -q | --quiet) QUIET=true ;;
      --no-pager | --no-block | --system | -l | --full) ;;
      *) args+=("$arg") ;;
    esac
  done
  ((${#args[@]} > 0)) || { echo "systemctl: a command is required" >&2; return 1; }
  local command=${args[0]}
  local units=("${args[@]:1}")
  case "$command" in
    start) for_each_unit start_unit "${units[@]}" ;;
    stop) for_each_unit stop_unit "${units[@]}" ;;
    restart)
      for_each_unit stop_unit "${units[@]}" 2>/dev/null || true
      for_each_unit start_unit "${units[@]}"
      ;;
    enable)
      for_each_unit enable_unit "${units[@]}"
      if $now; then for_each_unit start_unit "${units[@]}"; fi
      ;;
    disable)
      for_each_unit disable_unit "${units[@]}"
      if $now; then for_each_unit stop_unit "${units[@]}"; fi
      ;;
    is-active)
      local unit name rc=0
      for unit in "${units[@]}"; do
        unit_name "$unit" name
        if is_active "$name"; then $QUIET || echo active; else
          $QUIET || echo inactive
          rc=3
        fi
      done
      return "$rc"
      ;;
    is-enabled)
      local unit name rc=0
      for unit in "${units[@]}"; do
        unit_name "$unit" name
        if is_enabled "$name"; then $QUIET || echo enabled; else
          $QUIET || echo disabled
          rc=1
        fi
      done
      return "$rc"
      ;;
    status) for_each_unit status_unit "${units[@]}" ;;
    daemon-reload | reset-failed) return 0 ;;
    *)
      echo "Unknown command verb $command." >&2
      return 1
      ;;
  esac
}

main "$@"
