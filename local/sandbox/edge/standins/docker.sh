#!/usr/bin/env bash
# docker stand-in: reports the host's runtime trait version; containers are lines in
# $R/var/lib/sandbox/containers.list ("<id> <image> <name>"), enough for keadm's preflight and reset.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

CONTAINERS="$SANDBOX_STATE/containers.list"

print_version() {
  local version=$1 format=${2:-}
  case "$format" in
    '{{.Server.Version}}' | '{{.Client.Version}}') echo "$version" ;;
    '') printf 'Client: Docker Engine - Community\n Version:           %s\n\nServer: Docker Engine - Community\n Engine:\n  Version:          %s\n' "$version" "$version" ;;
    *) echo "$version" ;;
  esac
}

list_containers() {
  local quiet=false arg id image name
  for arg in "$@"; do [[ "$arg" == -q || "$arg" == -aq || "$arg" == -qa ]] && quiet=true; done
  $quiet || echo "CONTAINER ID   IMAGE   NAMES"
  [[ -f "$CONTAINERS" ]] || return 0
  while read -r id image name; do
    if $quiet; then echo "$id"; else echo "$id   $image   $name"; fi
  done <"$CONTAINERS"
}

remove_containers() {
  local arg
  for arg in "$@"; do
    [[ "$arg" == -* ]] && continue
    if [[ -f "$CONTAINERS" ]] && grep -q "^$arg " "$CONTAINERS"; then
      grep -v "^$arg " "$CONTAINERS" >"$CONTAINERS.tmp" || true
      mv "$CONTAINERS.tmp" "$CONTAINERS"
      echo "$arg"
    else
      echo "Error: No such container: $arg" >&2
      return 1
    fi
  done
}

main() {
  sandbox_log docker "$@"
  local version
  version=$(sandbox_trait RUNTIME_VERSION)
  case "${1:-}" in
    --version | -v) echo "Docker version ${version}, build sandbox" ;;
    version)
      if [[ "${2:-}" == --format || "${2:-}" == -f ]]; then print_version "$version" "${3:-}"; else
        print_version "$version" "${2#--format=}"
      fi
      ;;
    info) printf 'Server Version: %s\nStorage Driver: overlay2\nCgroup Driver: cgroupfs\n' "$version" ;;
    ps) list_containers "${@:2}" ;;
    rm) remove_containers "${@:2}" ;;
    pull) echo "${2:-}: pulled (sandbox)" ;;
    images) echo "REPOSITORY   TAG   IMAGE ID" ;;
    *)
      echo "docker: '${1:-}' is not supported by the sandbox stand-in." >&2
      return 1
      ;;
  esac
}

main "$@"
