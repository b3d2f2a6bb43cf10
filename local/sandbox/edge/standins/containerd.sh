#!/usr/bin/env bash
# containerd stand-in: only `containerd --version`, from the host's runtime trait.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

main() {
  sandbox_log containerd "$@"
  local version
  version=$(sandbox_trait RUNTIME_VERSION)
  case "${1:-}" in
    --version | -v) echo "containerd containerd.io ${version} sandbox" ;;
    *)
      echo "containerd: the sandbox stand-in only answers --version" >&2
      return 1
      ;;
  esac
}

main "$@"
