#!/usr/bin/env bash
# The paper's producer boxes: the load generator on several machines at once, one report.
#
#   deploy/loadgen-boxes.sh HOSTS_FILE [--key-file FILE] [--out DIR] [--dir REMOTE_DIR]
#                           [--tarball FILE] -- LOADGEN_OPTIONS...
#
# HOSTS_FILE names one ssh destination per line (user@host; # starts a comment). For each box in
# turn it copies the distribution (deploy/dist/target/txgw-*.tar.gz, built if missing) over ssh
# into REMOTE_DIR (default txgw-loadgen, in the login's home) and unpacks it; the API key file goes
# into REMOTE_DIR/RUN readable by the login only, and is removed when the run ends. Then it starts
# every box at once:
#   bin/txgw-loadgen --box-index I --boxes N --run-id RUN --report REMOTE_DIR/RUN/report-I \
#     [--api-key-file REMOTE_DIR/RUN/api-key] LOADGEN_OPTIONS
# Give --zookeeper in LOADGEN_OPTIONS: the boxes then wait for each other at its barrier and start
# together. When all have ended it fetches this run's reports to OUT (default
# deploy/target/loadgen-boxes-RUN) and combines them into OUT/report.html and OUT/report.json.
# It exits non-zero if a box failed (its output is in OUT/box-I.log). Ctrl-C stops every box.
#
# Remote commands are POSIX sh scripts run by "sh -c" whatever the login shell. TXGW_SSH replaces
# ssh (given "HOST COMMAND"): the test runs the boxes as local directories that way.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -n "${TXGW_SSH:-}" ]]; then
  ssh_cmd=("$TXGW_SSH")
else
  # Never a password prompt; a box that stops answering ends its session within a minute.
  ssh_cmd=(ssh -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=15
    -o ServerAliveCountMax=4)
fi

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
hosts_file="$1"
shift
key_file=""
out=""
remote_dir="txgw-loadgen"
tarball=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --key-file) key_file="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --dir) remote_dir="$2"; shift 2 ;;
    --tarball) tarball="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1 (the load generator's options go after --)" >&2; usage ;;
  esac
done
loadgen_args=("$@")

hosts=()
while IFS= read -r line || [[ -n "$line" ]]; do
  line="${line%%#*}"
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  if [[ "$line" == -* ]]; then
    echo "host '$line' starts with '-': ssh would take it as an option" >&2
    exit 2
  fi
  [[ -n "$line" ]] && hosts+=("$line")
done < "$hosts_file"
[[ ${#hosts[@]} -ge 1 ]] || { echo "no hosts in $hosts_file" >&2; exit 2; }

if [[ -z "$tarball" ]]; then
  tarball="$(ls "$root"/deploy/dist/target/txgw-*.tar.gz 2>/dev/null | head -1 || true)"
  if [[ -z "$tarball" ]]; then
    (cd "$root" && mvn -B -ntp -q -pl deploy/dist -am package -DskipTests) >&2
    tarball="$(ls "$root"/deploy/dist/target/txgw-*.tar.gz | head -1)"
  fi
fi
dist="$(basename "$tarball" .tar.gz)"
run_id="boxes-$(date +%Y%m%d-%H%M%S)-$$"
out="${out:-$root/deploy/target/loadgen-boxes-$run_id}"
mkdir -p "$out"
echo "run $run_id: ${#hosts[@]} boxes, distribution $dist, reports in $out"

# Remote commands are POSIX sh scripts, given to "sh -c" in single quotes: whatever the login
# shell (bash, dash, csh, fish), it passes them on as they are.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
on() {
  local host="$1"
  shift
  "${ssh_cmd[@]}" "$host" "sh -c $(sq "$1")"
}
run_dir="$remote_dir/$run_id"

pids=()
stop_box() {
  # By the process id the box wrote before it started its load generator.
  on "$1" "kill \$(cat $(sq "$run_dir/pid-$2") 2> /dev/null) 2> /dev/null" < /dev/null \
    2> /dev/null || true
}
cleanup() {
  # An ended run leaves no load running and no key behind, whatever ended it; a second Ctrl-C
  # does not cut this short.
  trap '' INT TERM
  if [[ ${#pids[@]} -gt 0 ]]; then
    for pid in "${pids[@]}"; do
      kill "$pid" 2> /dev/null || true
    done
    # Twice: a box told to stop before it wrote its process id is stopped the second time.
    for attempt in 1 2; do
      for i in "${!hosts[@]}"; do
        stop_box "${hosts[$i]}" "$i"
      done
      sleep 1
    done
  fi
  if [[ -n "$key_file" ]]; then
    for host in "${hosts[@]}"; do
      on "$host" "rm -f $(sq "$run_dir/api-key")" < /dev/null 2> /dev/null \
        || echo "box $host: could not remove the API key from $run_dir; remove it by hand" >&2
    done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Copies and unpacks the distribution on every box, one after another, over ssh alone.
for i in "${!hosts[@]}"; do
  host="${hosts[$i]}"
  on "$host" "mkdir -p $(sq "$remote_dir") && cat > $(sq "$remote_dir/$dist.tar.gz")" < "$tarball"
  if [[ -n "$key_file" ]]; then
    # In this run's own directory, made by the login alone: no older file's mode, no other run's.
    on "$host" "umask 077 && mkdir -p $(sq "$run_dir") && cat > $(sq "$run_dir/api-key")" \
      < "$key_file"
  fi
  on "$host" \
    "cd $(sq "$remote_dir") && rm -rf $(sq "$dist") && tar xzf $(sq "$dist.tar.gz")" < /dev/null
  echo "box $i ($host): installed"
done

# Starts every box at once; each waits at the barrier for the others.
for i in "${!hosts[@]}"; do
  host="${hosts[$i]}"
  report="$run_dir/report-$i"
  args=(--box-index "$i" --boxes "${#hosts[@]}" --run-id "$run_id" --report "$report")
  if [[ -n "$key_file" ]]; then
    args+=(--api-key-file "$run_dir/api-key")
  fi
  args+=("${loadgen_args[@]}")
  # Its process id first, so that an aborted run can stop it by that id.
  remote="mkdir -p $(sq "$run_dir") && echo \$\$ > $(sq "$run_dir/pid-$i")"
  remote+=" && exec $(sq "$remote_dir/$dist/bin/txgw-loadgen")"
  for a in "${args[@]}"; do
    remote+=" $(sq "$a")"
  done
  on "$host" "$remote" > "$out/box-$i.log" 2>&1 < /dev/null &
  pids+=("$!")
done

failed=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    echo "box $i (${hosts[$i]}): done"
  else
    echo "box $i (${hosts[$i]}): FAILED, see $out/box-$i.log" >&2
    # Its session may have ended with its load generator still running.
    stop_box "${hosts[$i]}" "$i"
    failed=1
  fi
done
pids=()

# Gathers the reports and combines them with the same distribution, unpacked here.
reports=()
for i in "${!hosts[@]}"; do
  # This run's report only: a box that failed has none, and an older run's is never taken.
  if on "${hosts[$i]}" "cat $(sq "$run_dir/report-$i.json")" < /dev/null > "$out/box-$i.json" \
    2> /dev/null; then
    reports+=("$out/box-$i.json")
  else
    echo "box $i (${hosts[$i]}): no report" >&2
    failed=1
  fi
done
if [[ ${#reports[@]} -gt 0 ]]; then
  mkdir -p "$out/dist"
  tar xzf "$tarball" -C "$out/dist"
  "$out/dist/$dist/bin/txgw-loadgen-report" "$out/report" "${reports[@]}"
  rm -rf "$out/dist"
fi
exit "$failed"
