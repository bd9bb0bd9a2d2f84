#!/usr/bin/env bash
# File-input benchmark: Hark's file input and rsyslog's imfile reading the
# same big log file from its beginning, in the same run.
#
#   bench/files.sh [-n LINES] [-s BYTES] [-r RUNS] [-o RESULTS.jsonl] [READER ...]
#
# READER is hark or rsyslog (default: both, in turn, RUNS times). The file
# holds LINES lines (default 1 000 000) of BYTES bytes (default 200, the
# newline included), written once before the first run into /tmp.
# Hark: a `hark serve` with only a file input on that file; its rate is
# LINES over the time from its first to its last event in the WAL
# (hark_events_stored_total), and the time until all are searchable is
# recorded too. rsyslog: rsyslogd with imfile (polling every second) writing
# every line to a file with omfile; its rate is LINES over the time from
# its first to its last line in that file. Both record the reader's CPU time
# per line (utime+stime from /proc, from its start until everything is kept)
# and its peak RSS (VmHWM).
#
# Environment: HARK_BIN (default target/release/hark), RSYSLOGD (default
# rsyslogd), BENCH_PORT_BASE (default 25340; uses base+1 for Hark's HTTP).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
lines=1000000
size=200
runs=1
results=""
while getopts "n:s:r:o:h" opt; do
  case $opt in
    n) lines=$OPTARG ;;
    s) size=$OPTARG ;;
    r) runs=$OPTARG ;;
    o) results=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
readers=("$@")
[ ${#readers[@]} -gt 0 ] || readers=(hark rsyslog)

HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
RSYSLOGD=${RSYSLOGD:-rsyslogd}
base=${BENCH_PORT_BASE:-25340}
hark_http=$((base + 1))
clk=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/hark-bench-files.XXXXXX)
[ -n "$results" ] || results=$work/results.jsonl
: >"$results"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The log file: LINES lines of SIZE bytes, numbered, looking like an access log.
big=$work/big.log
python3 - "$big" "$lines" "$size" <<'PY'
import sys
path, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    for i in range(n):
        head = f"2026-12-05T10:00:00.000Z web1 nginx[42]: filebench n={i} GET /api/v1/items?page={i % 97} 200 "
        f.write(head + "x" * max(size - 1 - len(head), 0) + "\n")
PY
echo "wrote $lines lines of $size bytes to $big ($(du -h "$big" | cut -f1))" >&2

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

hark_run() {
  local run=$1 dir=$work/hark-$1
  mkdir -p "$dir"
  cat >"$dir/hark.toml" <<TOML
data_dir = "$dir/data"

[http]
listen = "127.0.0.1:$hark_http"

[inputs.bench]
type = "file"
paths = ["$big"]
parsers = []
TOML
  "$HARK_BIN" serve --config "$dir/hark.toml" >"$dir/stdout" 2>"$dir/stderr" &
  local rpid=$!
  pids+=("$rpid")
  local cpu0
  cpu0=$(cpu_ticks "$rpid")
  for _ in $(seq 1 300); do
    grep -q '^ready' "$dir/stdout" 2>/dev/null && break
    kill -0 "$rpid" 2>/dev/null || { cat "$dir/stderr" >&2; exit 1; }
    sleep 0.05
  done
  local token probe
  token=$(awk '/^admin token:/ {print $3}' "$dir/stdout")
  probe=$(python3 "$here/count_probe.py" hark "http://127.0.0.1:$hark_http" "$token" bench "$lines")
  finish hark "$run" "$rpid" "$cpu0" "$probe"
  stop "$rpid"
  rm -rf "$dir"
}

rsyslog_run() {
  local run=$1 dir=$work/rsyslog-$1
  mkdir -p "$dir/work"
  local q=$((lines * 2))
  cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" maxMessageSize="8k")
module(load="imfile" mode="polling" PollingInterval="1")
ruleset(name="out" queue.type="LinkedList" queue.size="$q" queue.dequeueBatchSize="2048") {
  action(type="omfile" file="$dir/out.log" template="RSYSLOG_FileFormat"
         asyncWriting="on" ioBufferSize="1m" flushOnTXEnd="off" flushInterval="1")
}
input(type="imfile" File="$big" Tag="bench" ruleset="out")
EOF
  "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/pid" >"$dir/stdout" 2>"$dir/stderr" &
  local rpid=$!
  pids+=("$rpid")
  local cpu0 probe
  cpu0=$(cpu_ticks "$rpid")
  probe=$(python3 "$here/count_probe.py" file "$dir/out.log" "$lines")
  finish rsyslog "$run" "$rpid" "$cpu0" "$probe"
  stop "$rpid"
  rm -rf "$dir"
}

# Records one run of READER (pid RPID, CPU ticks CPU0 at its start) from
# count_probe.py's report PROBE.
finish() {
  local reader=$1 run=$2 rpid=$3 cpu0=$4 probe=$5
  local cpu1 hwm load
  cpu1=$(cpu_ticks "$rpid")
  hwm=$(status_kb "$rpid" VmHWM)
  load=$(cut -d' ' -f1 /proc/loadavg)
  jq -nc --arg reader "$reader" --argjson run "$run" --argjson n "$lines" \
    --argjson size "$size" --argjson p "$probe" --argjson cpu "$((cpu1 - cpu0))" \
    --argjson clk "$clk" --argjson hwm "$hwm" --argjson load "$load" \
    '{reader: $reader, run: $run, load1: $load, lines: $n, size: $size, kept: $p.kept,
      lines_per_s: ($p.kept / ([$p.done - $p.first, 0.02] | max)), seconds: ($p.done - $p.first),
      searchable_after_s: (if $p.searchable then $p.searchable - $p.done else null end),
      cpu_us_per_line: ($cpu / $clk * 1e6 / ([$p.kept, 1] | max)), peak_rss_mib: ($hwm / 1024)}' \
    >>"$results"
  tail -1 "$results" >&2
}

for run in $(seq 1 "$runs"); do
  for reader in "${readers[@]}"; do
    case $reader in
      hark) hark_run "$run" ;;
      rsyslog) rsyslog_run "$run" ;;
      *) echo "unknown reader $reader" >&2; exit 2 ;;
    esac
  done
done

echo
echo "| reader | run | lines | lines/s | seconds | searchable after (s) | CPU µs/line | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
jq -r '"| \(.reader) | \(.run) | \(.kept) | \(.lines_per_s | floor) | \(.seconds * 100 | round / 100) | \(if .searchable_after_s then (.searchable_after_s * 100 | round / 100) else "–" end) | \(.cpu_us_per_line * 10 | round / 10) | \(.peak_rss_mib | round) |"' "$results"
