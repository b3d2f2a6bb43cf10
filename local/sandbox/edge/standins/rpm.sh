#!/usr/bin/env bash
# rpm stand-in (CentOS hosts only): `rpm -q <pkg>` and `rpm -qa` from $R/var/lib/sandbox/packages.list.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

main() {
  sandbox_log rpm "$@"
  case "${1:-}" in
    -qa) if [[ -f "$SANDBOX_STATE/packages.list" ]]; then cat "$SANDBOX_STATE/packages.list"; fi ;;
    -q)
      local pkg rc=0
      for pkg in "${@:2}"; do
        if sandbox_pkg_installed "$pkg"; then echo "$pkg-sandbox.el7"; else
          echo "package $pkg is not installed"
          rc=1
        fi
      done
      return "$rc"
      ;;
    *)
      echo "rpm: unsupported option in the sandbox: ${1:-}" >&2
      return 1
      ;;
  esac
}

main "$@"
