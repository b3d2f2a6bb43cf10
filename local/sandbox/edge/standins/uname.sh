#!/usr/bin/env bash
# uname stand-in: reports the host's architecture trait for -m/-p/-i (and in -a); everything else is the real uname.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

main() {
  sandbox_log uname "$@"
  local real arch
  real=$(sandbox_real_tool /usr/bin/uname /bin/uname)
  arch=$(sandbox_trait ARCH)
  [[ -n "$arch" ]] || exec "$real" "$@"
  case "${1:-}" in
    -m | --machine | -p | --processor | -i | --hardware-platform)
      (($# == 1)) && { echo "$arch"; return 0; }
      ;;
    -a | --all)
      (($# == 1)) && { echo "$("$real" -snrv) $arch $arch $arch $("$real" -o)"; return 0; }
      ;;
  esac
  exec "$real" "$@"
}

main "$@"
