#!/usr/bin/env bash
# Routes `kubectl logs` and `kubectl exec` for one edge node through cloudcore's stream server, on a cloud host
# (docs/kubeedge.md §6; what KubeSphere 3.1/3.2's edge-watcher did). The API server dials a node's kubelet at
# <InternalIP>:10350 (edged) and :10250 (metrics); for an edge node nothing listens there, so those connections are
# DNATed to cloudcore's stream port, which reaches edgecore through the tunnel it keeps open.
#
#   ACTION=add     adds both rules unless present
#   ACTION=remove  deletes every DNAT rule for the node's IP on those ports, whatever its destination
#   ACTION=list    changes nothing: prints every DNAT rule on those ports, whatever the node (the drift check)
# Add and remove are idempotent and print one line per change, "edgekeeper: routing: …".
#
# Exit codes:
#   0  done
#   30 iptables is not installed on this cloud host
#   1  unexpected failure
set -euo pipefail

# edgekeeper:values:begin
# add, remove or list
ACTION=add
# the edge node's InternalIP: the key of its routing
NODE_IP=10.20.0.11
# cloudcore's stream server as cloud hosts reach it (host:port)
DESTINATION=203.0.113.10:10003
# edgekeeper:values:end

readonly KUBELET_PORTS=(10350 10250)

say() {
  printf 'edgekeeper: routing: %s\n' "$*"
}

add_rules() {
  local port rule
  for port in "${KUBELET_PORTS[@]}"; do
    rule=(OUTPUT -p tcp --dport "$port" -d "$NODE_IP" -j DNAT --to-destination "$DESTINATION")
    if iptables -w -t nat -C "${rule[@]}" 2>/dev/null; then
      say "port $port of $NODE_IP already goes to $DESTINATION"
    else
      iptables -w -t nat -A "${rule[@]}"
      say "port $port of $NODE_IP now goes to $DESTINATION"
    fi
  done
}

# Reads the rules back rather than rebuilding them: a rule added for an older destination is removed too.
remove_rules() {
  local line removed=0
  local -a words
  while IFS= read -r line; do
    [[ $line == "-A OUTPUT "* && $line == *"-j DNAT"* ]] || continue
    [[ " $line " == *" -d ${NODE_IP}/32 "* ]] || continue
    [[ $line =~ --dport\ (10350|10250)( |$) ]] || continue
    read -ra words <<<"${line#-A }"
    iptables -w -t nat -D "${words[@]}"
    say "removed: $line"
    removed=$((removed + 1))
  done < <(iptables -w -t nat -S OUTPUT)
  ((removed > 0)) || say "no rule for $NODE_IP"
}

# One line per rule, "<ip> <port> <destination>".
rule_lines() {
  local line
  while IFS= read -r line; do
    [[ $line == "-A OUTPUT "* && $line == *"-j DNAT"* ]] || continue
    [[ $line =~ \ -d\ ([0-9.]+)/32( |$) ]] || continue
    local ip=${BASH_REMATCH[1]}
    [[ $line =~ --dport\ (10350|10250)( |$) ]] || continue
    local port=${BASH_REMATCH[1]}
    [[ $line =~ --to-destination\ ([^ ]+) ]] || continue
    printf '%s %s %s\n' "$ip" "$port" "${BASH_REMATCH[1]}"
  done < <(iptables -w -t nat -S OUTPUT)
}

# Sorted, gzipped and base64-encoded on one line: SSM keeps 24,000 characters of a host's output, and thousands of
# nodes' rules in clear text would not fit (sorted IPs compress to a few bytes each).
list_rules() {
  local encoded
  encoded=$(rule_lines | sort -u | gzip -9n | base64 -w0)
  printf 'edgekeeper: routing-list: %s\n' "$encoded"
}

main() {
  if ! command -v iptables >/dev/null 2>&1; then
    say 'error: iptables is not installed'
    exit 30
  fi
  case $ACTION in
    add) add_rules ;;
    remove) remove_rules ;;
    list) list_rules ;;
    *)
      say "error: unknown action $ACTION"
      exit 1
      ;;
  esac
}

main "$@"
