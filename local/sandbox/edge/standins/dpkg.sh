#!/usr/bin/env bash
# dpkg stand-in (Ubuntu hosts only): answers from $R/var/lib/sandbox/packages.list.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

debian_arch() {
  case "$(sandbox_trait ARCH)" in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    armv7l) echo armhf ;;
    *) sandbox_trait ARCH ;;
  esac
}

main() {
  sandbox_log dpkg "$@"
  case "${1:-}" in
    --print-architecture) debian_arch ;;
    -s | --status)
      if sandbox_pkg_installed "${2:-}"; then
        printf 'Package: %s\nStatus: install ok installed\n' "$2"
      else
        echo "dpkg-query: package '${2:-}' is not installed and no information is available" >&2
        return 1
      fi
      ;;
    -l | --list)
      local pkg rc=0
      if (($# == 1)); then
        [[ -f "$SANDBOX_STATE/packages.list" ]] || return 0
        while read -r pkg; do echo "ii  $pkg  sandbox  $(debian_arch)"; done <"$SANDBOX_STATE/packages.list"
        return 0
      fi
      for pkg in "${@:2}"; do
        if sandbox_pkg_installed "$pkg"; then echo "ii  $pkg  sandbox  $(debian_arch)"; else
          echo "dpkg-query: no packages found matching $pkg" >&2
          rc=1
        fi
      done
      return "$rc"
      ;;
    *)
      echo "dpkg: error: unsupported action in the sandbox: ${1:-}" >&2
      return 2
      ;;
  esac
}

main "$@"
