#!/usr/bin/env bash
# mosquitto placeholder: the package stand-ins install it; systemd units never run it, so it only answers -h.
set -euo pipefail
echo "mosquitto version 1.6.9 (sandbox placeholder)"
