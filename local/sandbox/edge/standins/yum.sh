#!/usr/bin/env bash
# yum stand-in (CentOS hosts only): same package state and side effects as the apt-get stand-in.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

main() {
  sandbox_log yum "$@"
  local args=() arg pkg
  for arg in "$@"; do
    case "$arg" in
      -*) ;;
      *) args+=("$arg") ;;
    esac
  done
  ((${#args[@]} > 0)) || { echo "You need to give some command" >&2; return 1; }
  case "${args[0]}" in
    makecache | clean) return 0 ;;
    install)
      for pkg in "${args[@]:1}"; do
        if sandbox_pkg_installed "$pkg"; then echo "Package $pkg already installed and latest version"; else
          echo "Installed: $pkg"
          sandbox_pkg_add "$pkg"
          sandbox_pkg_post_install "$pkg"
        fi
      done
      echo "Complete!"
      ;;
    remove | erase)
      for pkg in "${args[@]:1}"; do
        if sandbox_pkg_installed "$pkg"; then
          echo "Removed: $pkg"
          sandbox_pkg_post_remove "$pkg" true
          sandbox_pkg_remove "$pkg"
        else
          echo "No Match for argument: $pkg"
        fi
      done
      echo "Complete!"
      ;;
    *)
      echo "No such command: ${args[0]}. Please use /usr/bin/yum --help" >&2
      return 1
      ;;
  esac
}

main "$@"
