#!/usr/bin/env bash
# crictl stand-in: empty pod and container lists, version from the runtime trait.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

main() {
  sandbox_log crictl "$@"
  case "${1:-}" in
    version) printf 'Version:  0.1.0\nRuntimeName:  %s\nRuntimeVersion:  %s\n' "$(sandbox_trait RUNTIME_KIND)" "$(sandbox_trait RUNTIME_VERSION)" ;;
    ps) echo "CONTAINER   IMAGE   CREATED   STATE   NAME   ATTEMPT   POD ID" ;;
    pods) echo "POD ID   CREATED   STATE   NAME   NAMESPACE   ATTEMPT" ;;
    pull) echo "Image is up to date for ${2:-}" ;;
    rm | rmp | stopp) return 0 ;;
    *)
      echo "crictl: '${1:-}' is not supported by the sandbox stand-in" >&2
      return 1
      ;;
  esac
}

main "$@"
