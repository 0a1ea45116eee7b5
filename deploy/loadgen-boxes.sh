#!/usr/bin/env bash
# The paper's producer boxes: the load generator on several machines at once, one report.
#
#   deploy/loadgen-boxes.sh HOSTS_FILE [--key-file FILE] [--out DIR] [--dir REMOTE_DIR]
#                           [--tarball FILE] -- LOADGEN_OPTIONS...
#
# HOSTS_FILE names one ssh destination per line (user@host; # starts a comment). For each box in
# turn it copies the distribution (deploy/dist/target/txgw-*.tar.gz, built if missing) and the API
# key file into REMOTE_DIR (default txgw-loadgen, in the login's home) and unpacks it. Then it
# starts every box at once:
#   bin/txgw-loadgen --box-index I --boxes N --run-id RUN --report REMOTE_DIR/report-I \
#     [--api-key-file REMOTE_DIR/api-key] LOADGEN_OPTIONS
# Give --zookeeper in LOADGEN_OPTIONS: the boxes then wait for each other at its barrier and start
# together. When all have ended it copies their reports back to OUT (default
# deploy/target/loadgen-boxes-RUN) and combines them into OUT/report.html and OUT/report.json.
# It exits non-zero if a box failed (its output is in OUT/box-I.log).
#
# TXGW_SSH and TXGW_SCP replace ssh and scp (each is given the same arguments): the test runs the
# boxes as local directories that way.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ssh_cmd=(${TXGW_SSH:-ssh})
scp_cmd=(${TXGW_SCP:-scp})

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
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
  line="$(echo "$line" | xargs)"
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

# Copies and unpacks the distribution on every box, one after another.
for i in "${!hosts[@]}"; do
  host="${hosts[$i]}"
  "${ssh_cmd[@]}" "$host" "mkdir -p $(printf %q "$remote_dir")"
  "${scp_cmd[@]}" "$tarball" "$host:$remote_dir/$dist.tar.gz"
  if [[ -n "$key_file" ]]; then
    "${scp_cmd[@]}" "$key_file" "$host:$remote_dir/api-key"
    "${ssh_cmd[@]}" "$host" "chmod 600 $(printf %q "$remote_dir/api-key")"
  fi
  "${ssh_cmd[@]}" "$host" \
    "cd $(printf %q "$remote_dir") && rm -rf $(printf %q "$dist") && tar xzf $(printf %q "$dist.tar.gz")"
  echo "box $i ($host): installed"
done

# Starts every box at once; each waits at the barrier for the others.
pids=()
for i in "${!hosts[@]}"; do
  host="${hosts[$i]}"
  args=(--box-index "$i" --boxes "${#hosts[@]}" --run-id "$run_id" --report "$remote_dir/report-$i")
  if [[ -n "$key_file" ]]; then
    args+=(--api-key-file "$remote_dir/api-key")
  fi
  args+=("${loadgen_args[@]}")
  remote="$(printf %q "$remote_dir/$dist/bin/txgw-loadgen")"
  for a in "${args[@]}"; do
    remote+=" $(printf %q "$a")"
  done
  "${ssh_cmd[@]}" "$host" "$remote" > "$out/box-$i.log" 2>&1 &
  pids+=("$!")
done

failed=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    echo "box $i (${hosts[$i]}): done"
  else
    echo "box $i (${hosts[$i]}): FAILED, see $out/box-$i.log" >&2
    failed=1
  fi
done

# Gathers the reports and combines them with the same distribution, unpacked here.
reports=()
for i in "${!hosts[@]}"; do
  if "${scp_cmd[@]}" "${hosts[$i]}:$remote_dir/report-$i.json" "$out/box-$i.json" 2> /dev/null; then
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
