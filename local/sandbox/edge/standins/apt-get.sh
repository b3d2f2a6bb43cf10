#!/usr/bin/env bash
# apt-get / apt stand-in (Ubuntu hosts only): installs and removes record package names in
# $R/var/lib/sandbox/packages.list and apply the package's side effects (mosquitto gets its unit and is started).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

install_packages() {
  local pkg
  echo "Reading package lists... Done"
  for pkg in "$@"; do
    if sandbox_pkg_installed "$pkg"; then
      echo "$pkg is already the newest version."
      continue
    fi
    echo "Setting up $pkg ..."
    sandbox_pkg_add "$pkg"
    sandbox_pkg_post_install "$pkg"
  done
}

remove_packages() {
  local purge=$1 pkg
  shift
  echo "Reading package lists... Done"
  for pkg in "$@"; do
    if ! sandbox_pkg_installed "$pkg"; then
      echo "Package '$pkg' is not installed, so not removed"
      continue
    fi
    echo "Removing $pkg ..."
    sandbox_pkg_post_remove "$pkg" "$purge"
    sandbox_pkg_remove "$pkg"
  done
}

main() {
  sandbox_log "$(basename "$0")" "$@"
  local args=() arg
  for arg in "$@"; do
    case "$arg" in
      -*) ;;
      *) args+=("$arg") ;;
    esac
  done
  ((${#args[@]} > 0)) || { echo "E: No command given" >&2; return 100; }
  case "${args[0]}" in
    update) echo "Reading package lists... Done" ;;
    install) install_packages "${args[@]:1}" ;;
    remove | autoremove) remove_packages false "${args[@]:1}" ;;
    purge) remove_packages true "${args[@]:1}" ;;
    *)
      echo "E: Invalid operation ${args[0]}" >&2
      return 100
      ;;
  esac
}

main "$@"
