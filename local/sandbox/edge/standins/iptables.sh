#!/usr/bin/env bash
# iptables (and iptables-save) stand-in: keeps the filter and nat tables in
# $R/var/lib/sandbox/iptables/<table>.rules, one `iptables -S` line each (`-P <chain> ACCEPT`, then `-A <chain> …`),
# and never touches netfilter. Rules are stored in the canonical form `iptables -S` prints, so -C and -D find a
# rule however it was written: `-d 10.20.0.11` is `-d 10.20.0.11/32`, `-p tcp --dport 10350` is
# `-p tcp -m tcp --dport 10350`, and addresses and the protocol come first (-s -d -i -o -p), then the matches in
# the order given, then -j and its options.
#
# Supported: [-t filter|nat] [-w [secs]] [-W usecs] with -A|-C|-D|-I|-S|-L|-F|-P chain …, -V; iptables-save [-t table].
# Exit codes as iptables: 0 ok, 1 rule or chain not found (and other failures), 2 bad parameters, 3 unknown table.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # @inline

IPT_VERSION='1.8.4'
IPT_DIR="$SANDBOX_STATE/iptables"
PROG=iptables
BAD_RULE='iptables: Bad rule (does a matching rule exist in that chain?).'
NO_CHAIN='iptables: No chain/target/match by that name.'

# The rule being parsed/printed and the table's lines (filled by load_table).
RULE=''
LINES=()

param_error() {
  printf '%s v%s (legacy): %s\n' "$PROG" "$IPT_VERSION" "$1" >&2
  printf "Try \`%s -h' or '%s --help' for more information.\n" "$PROG" "$PROG" >&2
  exit 2
}

table_chains() {
  case "$1" in
    filter) echo 'INPUT FORWARD OUTPUT' ;;
    nat) echo 'PREROUTING INPUT OUTPUT POSTROUTING' ;;
  esac
}

check_table() {
  case "$1" in
    filter | nat) ;;
    *)
      printf "%s v%s (legacy): can't initialize iptables table \`%s': Table does not exist (do you need to insmod?)\n" \
        "$PROG" "$IPT_VERSION" "$1" >&2
      echo 'Perhaps iptables or your kernel needs to be upgraded. (The sandbox has the filter and nat tables only.)' >&2
      exit 3
      ;;
  esac
}

check_chain() {
  local table=$1 chain=$2 c
  for c in $(table_chains "$table"); do [[ "$c" == "$chain" ]] && return 0; done
  echo "$NO_CHAIN" >&2
  exit 1
}

table_file() { printf '%s/%s.rules' "$IPT_DIR" "$1"; }

# Loads a table into LINES, creating its file with the built-in chains' ACCEPT policies on first use.
load_table() {
  local table=$1 file chain
  file=$(table_file "$table")
  mkdir -p "$IPT_DIR"
  if [[ ! -f "$file" ]]; then
    for chain in $(table_chains "$table"); do printf -- '-P %s ACCEPT\n' "$chain"; done >"$file"
  fi
  mapfile -t LINES <"$file"
}

save_table() {
  local file
  file=$(table_file "$1")
  if ((${#LINES[@]})); then printf '%s\n' "${LINES[@]}" >"$file.tmp"; else : >"$file.tmp"; fi
  mv "$file.tmp" "$file"
}

# Serialises writers like the xtables lock (-w waits for it; the sandbox always waits).
take_lock() {
  mkdir -p "$IPT_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$IPT_DIR/.lock"
    flock 9
  fi
}

# 10.0.0.1 -> 10.0.0.1/32; 10.0.0.7/24 -> 10.0.0.0/24 (what iptables prints); anything else as given.
canonical_address() {
  local value=$1 ip mask a b c d n
  ip=${value%%/*}
  mask=32
  [[ "$value" == */* ]] && mask=${value#*/}
  # The mask first: each =~ replaces BASH_REMATCH.
  if [[ ! "$mask" =~ ^[0-9]{1,2}$ ]] || ((mask > 32)) ||
    [[ ! "$ip" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]]; then
    printf '%s' "$value"
    return 0
  fi
  a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]} c=${BASH_REMATCH[3]} d=${BASH_REMATCH[4]}
  n=$(((a << 24 | b << 16 | c << 8 | d) & (mask == 0 ? 0 : (0xFFFFFFFF << (32 - mask)) & 0xFFFFFFFF)))
  printf '%d.%d.%d.%d/%d' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)) "$mask"
}

# A value as iptables -S quotes it (only values with spaces need it).
quoted() {
  if [[ "$1" == *' '* ]]; then printf '"%s"' "$1"; else printf '%s' "$1"; fi
}

# Parses a rule specification into RULE (canonical form, without `-A <chain>`); exits 2 on what it cannot parse.
canonical_rule() {
  local src='' dst='' iif='' oif='' proto='' target='' target_opts='' neg='' opt value name i
  local -a match_names=() match_opts=()
  local current=-1 implicit in_target=false
  while (($# > 0)); do
    opt=$1
    shift
    if [[ "$opt" == '!' ]]; then
      neg='! '
      continue
    fi
    case "$opt" in
      -s | --source | --src | -d | --destination | --dst | -i | --in-interface | -o | --out-interface | -p | --protocol)
        (($# > 0)) || param_error "option \"$opt\" requires an argument"
        value=$1
        shift
        case "$opt" in
          -s | --source | --src) src="${neg}-s $(canonical_address "$value")" ;;
          -d | --destination | --dst) dst="${neg}-d $(canonical_address "$value")" ;;
        esac
        # Any address is no condition at all: iptables prints no -s/-d for it.
        [[ "$src" == '-s 0.0.0.0/0' ]] && src=''
        [[ "$dst" == '-d 0.0.0.0/0' ]] && dst=''
        case "$opt" in
          -s | --source | --src | -d | --destination | --dst) ;;
          -i | --in-interface) iif="${neg}-i $value" ;;
          -o | --out-interface) oif="${neg}-o $value" ;;
          *) proto="${neg}-p ${value,,}" ;;
        esac
        in_target=false
        ;;
      -m | --match)
        (($# > 0)) || param_error "option \"$opt\" requires an argument"
        name=$1
        shift
        current=-1
        for i in "${!match_names[@]}"; do [[ "${match_names[$i]}" == "$name" ]] && current=$i; done
        if ((current < 0)); then
          match_names+=("$name")
          match_opts+=('')
          current=$((${#match_names[@]} - 1))
        fi
        in_target=false
        ;;
      -j | --jump)
        (($# > 0)) || param_error "option \"$opt\" requires an argument"
        target=$1
        shift
        in_target=true
        ;;
      --*)
        case "$opt" in
          --destination-port) opt=--dport ;;
          --source-port) opt=--sport ;;
        esac
        value=''
        if (($# > 0)) && [[ "$1" != -* && "$1" != '!' ]]; then
          value=" $(quoted "$1")"
          shift
        fi
        if [[ "$in_target" == true ]]; then
          target_opts+=" ${neg}${opt}${value}"
        elif [[ "$opt" == --dport || "$opt" == --sport || "$opt" == --tcp-flags || "$opt" == --syn ]] &&
          [[ "$proto" == '-p tcp' || "$proto" == '-p udp' ]]; then
          # These belong to the protocol's match, which iptables loads implicitly: `-p tcp --dport 80` is
          # `-p tcp -m tcp --dport 80`, and `-m tcp --dport 80` the same rule.
          name=${proto#-p }
          implicit=-1
          for i in "${!match_names[@]}"; do [[ "${match_names[$i]}" == "$name" ]] && implicit=$i; done
          if ((implicit < 0)); then
            match_names+=("$name")
            match_opts+=('')
            implicit=$((${#match_names[@]} - 1))
          fi
          match_opts[implicit]+=" ${neg}${opt}${value}"
        elif ((current >= 0)); then
          match_opts[current]+=" ${neg}${opt}${value}"
        else
          param_error "unknown option \"$opt\""
        fi
        ;;
      *) param_error "Bad argument \`$opt'" ;;
    esac
    neg=''
  done
  local parts=()
  for value in "$src" "$dst" "$iif" "$oif" "$proto"; do [[ -n "$value" ]] && parts+=("$value"); done
  for i in "${!match_names[@]}"; do parts+=("-m ${match_names[$i]}${match_opts[$i]}"); done
  [[ -n "$target" ]] && parts+=("-j ${target}${target_opts}")
  RULE="${parts[*]}"
}

# Refuses targets the kernel would refuse in that table or chain (as iptables-legacy reports it).
check_target() {
  local table=$1 chain=$2 target
  target=$(sed -n 's/.*-j \([^ ]*\).*/\1/p' <<<"$RULE")
  case "$target" in
    '' | ACCEPT | DROP | RETURN | REJECT | LOG) return 0 ;;
    DNAT | SNAT | MASQUERADE | REDIRECT) ;;
    *) param_error "Couldn't load target \`$target':No such file or directory" ;;
  esac
  if [[ "$target" == DNAT && "$RULE" != *--to-destination* ]]; then param_error 'You must specify --to-destination'; fi
  if [[ "$target" == SNAT && "$RULE" != *--to-source* ]]; then param_error 'You must specify --to-source'; fi
  local ok=false
  case "$table/$target/$chain" in
    nat/DNAT/PREROUTING | nat/DNAT/OUTPUT | nat/REDIRECT/PREROUTING | nat/REDIRECT/OUTPUT) ok=true ;;
    nat/SNAT/POSTROUTING | nat/SNAT/INPUT | nat/MASQUERADE/POSTROUTING) ok=true ;;
  esac
  if [[ "$ok" == false ]]; then
    echo "iptables: Invalid argument. Run \`dmesg' for more information." >&2
    exit 1
  fi
}

# Index in LINES of the first `-A <chain> <RULE>`, or -1.
find_rule() {
  local want="-A $1 $RULE" i
  [[ -n "$RULE" ]] || want="-A $1"
  for i in "${!LINES[@]}"; do
    if [[ "${LINES[$i]}" == "$want" ]]; then
      echo "$i"
      return 0
    fi
  done
  echo -1
}

# Indexes in LINES of the rules of a chain, in order.
chain_rule_indexes() {
  local i
  for i in "${!LINES[@]}"; do [[ "${LINES[$i]}" == "-A $1 "* || "${LINES[$i]}" == "-A $1" ]] && echo "$i"; done
  return 0
}

remove_line() {
  local at=$1
  LINES=("${LINES[@]:0:at}" "${LINES[@]:at+1}")
}

print_rules() {
  local chain=$1 line
  for line in "${LINES[@]}"; do
    if [[ -z "$chain" || "$line" == "-P $chain "* || "$line" == "-A $chain "* || "$line" == "-A $chain" ]]; then
      printf '%s\n' "$line"
    fi
  done
}

# `iptables -L -n`, simplified: target, protocol, addresses, then the matches and target options in short form.
list_chain() {
  local chain=$1 line policy
  policy=$(printf '%s\n' "${LINES[@]}" | sed -n "s/^-P $chain //p")
  printf 'Chain %s (policy %s)\n' "$chain" "${policy:-ACCEPT}"
  printf '%-10s %-4s %-3s %-20s %-20s\n' target prot opt source destination
  for line in "${LINES[@]}"; do
    [[ "$line" == "-A $chain "* ]] || continue
    local -a words
    read -ra words <<<"${line#"-A $chain "}"
    local target='' prot=all src=0.0.0.0/0 dst=0.0.0.0/0 extra='' w=0
    while ((w < ${#words[@]})); do
      case "${words[$w]}" in
        -s) src=${words[$((w + 1))]} && w=$((w + 2)) ;;
        -d) dst=${words[$((w + 1))]} && w=$((w + 2)) ;;
        -p) prot=${words[$((w + 1))]} && w=$((w + 2)) ;;
        -j) target=${words[$((w + 1))]} && w=$((w + 2)) ;;
        -m) extra+=" ${words[$((w + 1))]}" && w=$((w + 2)) ;;
        --dport) extra+=" dpt:${words[$((w + 1))]}" && w=$((w + 2)) ;;
        --sport) extra+=" spt:${words[$((w + 1))]}" && w=$((w + 2)) ;;
        --to-destination | --to-source) extra+=" to:${words[$((w + 1))]}" && w=$((w + 2)) ;;
        *) extra+=" ${words[$w]}" && w=$((w + 1)) ;;
      esac
    done
    [[ "$src" == */32 ]] && src=${src%/32}
    [[ "$dst" == */32 ]] && dst=${dst%/32}
    printf '%-10s %-4s %-3s %-20s %-20s %s\n' "$target" "$prot" -- "$src" "$dst" "${extra# }" | sed 's/ *$//'
  done
}

save_tables() {
  local only=$1 table now line chain
  now=$(date -u '+%a %b %e %H:%M:%S %Y')
  for table in filter nat; do
    [[ -z "$only" || "$only" == "$table" ]] || continue
    [[ -n "$only" || -f "$(table_file "$table")" || "$table" == filter ]] || continue
    load_table "$table"
    echo "# Generated by iptables-save v$IPT_VERSION on $now"
    echo "*$table"
    for chain in $(table_chains "$table"); do
      printf ':%s %s [0:0]\n' "$chain" "$(printf '%s\n' "${LINES[@]}" | sed -n "s/^-P $chain //p")"
    done
    for line in "${LINES[@]}"; do [[ "$line" == -A* ]] && printf '%s\n' "$line"; done
    echo COMMIT
    echo "# Completed on $now"
  done
}

main_save() {
  PROG=iptables-save
  local table=''
  while (($# > 0)); do
    case "$1" in
      -t | --table)
        table=${2:-}
        shift 2 || param_error 'option "-t" requires an argument'
        ;;
      -c | --counters) shift ;;
      *) param_error "unknown option \"$1\"" ;;
    esac
  done
  [[ -z "$table" ]] || check_table "$table"
  save_tables "$table"
}

main() {
  local table=filter command='' chain='' number='' policy='' arg
  local -a rest=()
  # Global options may appear anywhere; the first command option picks the action.
  while (($# > 0)); do
    arg=$1
    shift
    case "$arg" in
      -t | --table)
        (($# > 0)) || param_error 'option "-t" requires an argument'
        table=$1
        shift
        ;;
      -w | --wait)
        if (($# > 0)) && [[ "$1" =~ ^[0-9]+$ ]]; then shift; fi
        ;;
      -W | --wait-interval) shift ;;
      -n | --numeric | -v | --verbose | -x | --exact | --line-numbers) ;;
      -V | --version)
        echo "iptables v$IPT_VERSION (legacy)"
        return 0
        ;;
      -A | --append | -C | --check | -D | --delete | -I | --insert | -S | --list-rules | -L | --list | -F | --flush | -P | --policy)
        if [[ -n "$command" ]]; then param_error 'Cannot use more than one command at a time'; fi
        command=${arg}
        case "$command" in
          --append) command=-A ;; --check) command=-C ;; --delete) command=-D ;; --insert) command=-I ;;
          --list-rules) command=-S ;; --list) command=-L ;; --flush) command=-F ;; --policy) command=-P ;;
        esac
        if [[ "$command" == -[ACDIP] ]]; then
          (($# > 0)) || param_error "option \"$arg\" requires an argument"
          chain=$1
          shift
        elif (($# > 0)) && [[ "$1" != -* ]]; then
          chain=$1
          shift
        fi
        if [[ "$command" == -I || "$command" == -D ]] && (($# > 0)) && [[ "$1" =~ ^[0-9]+$ ]]; then
          number=$1
          shift
        fi
        if [[ "$command" == -P ]]; then
          (($# > 0)) || param_error "option \"$arg\" requires an argument"
          policy=$1
          shift
        fi
        ;;
      *) rest+=("$arg") ;;
    esac
  done
  [[ -n "$command" ]] || param_error 'no command specified'
  check_table "$table"
  [[ -z "$chain" ]] || check_chain "$table" "$chain"
  RULE=''
  if [[ "$command" == -[ACDI] ]]; then
    canonical_rule "${rest[@]}"
  elif ((${#rest[@]})); then
    param_error "Bad argument \`${rest[0]}'"
  fi

  take_lock
  load_table "$table"
  local at
  case "$command" in
    -C)
      check_target "$table" "$chain"
      at=$(find_rule "$chain")
      if ((at < 0)); then
        echo "$BAD_RULE" >&2
        return 1
      fi
      ;;
    -A)
      check_target "$table" "$chain"
      LINES+=("-A $chain${RULE:+ $RULE}")
      save_table "$table"
      ;;
    -I)
      check_target "$table" "$chain"
      local -a indexes
      mapfile -t indexes < <(chain_rule_indexes "$chain")
      number=${number:-1}
      if ((number < 1 || number > ${#indexes[@]} + 1)); then
        echo 'iptables: Index of insertion too big.' >&2
        return 1
      fi
      if ((number <= ${#indexes[@]})); then at=${indexes[$((number - 1))]}; else at=${#LINES[@]}; fi
      LINES=("${LINES[@]:0:at}" "-A $chain${RULE:+ $RULE}" "${LINES[@]:at}")
      save_table "$table"
      ;;
    -D)
      if [[ -n "$number" && -z "$RULE" ]]; then
        local -a indexes
        mapfile -t indexes < <(chain_rule_indexes "$chain")
        if ((number < 1 || number > ${#indexes[@]})); then
          echo 'iptables: Index of deletion too big.' >&2
          return 1
        fi
        at=${indexes[$((number - 1))]}
      else
        at=$(find_rule "$chain")
        if ((at < 0)); then
          echo "$BAD_RULE" >&2
          return 1
        fi
      fi
      remove_line "$at"
      save_table "$table"
      ;;
    -S) print_rules "$chain" ;;
    -L)
      local c first=true
      for c in $(table_chains "$table"); do
        [[ -z "$chain" || "$c" == "$chain" ]] || continue
        [[ "$first" == true ]] || echo
        first=false
        list_chain "$c"
      done
      ;;
    -F)
      local -a kept=()
      local line
      for line in "${LINES[@]}"; do
        if [[ "$line" == -A* ]] && [[ -z "$chain" || "$line" == "-A $chain "* || "$line" == "-A $chain" ]]; then continue; fi
        kept+=("$line")
      done
      LINES=("${kept[@]}")
      save_table "$table"
      ;;
    -P)
      case "$policy" in ACCEPT | DROP) ;; *) param_error "Bad policy name. Run \`dmesg' for more information." ;; esac
      local i
      for i in "${!LINES[@]}"; do [[ "${LINES[$i]}" == "-P $chain "* ]] && LINES[i]="-P $chain $policy"; done
      save_table "$table"
      ;;
  esac
}

if [[ "$(basename "$0")" == iptables-save ]]; then
  sandbox_log iptables-save "$@"
  main_save "$@"
else
  sandbox_log iptables "$@"
  main "$@"
fi
