#!/usr/bin/env bash
# Forwarding benchmark on 127.0.0.1: an edge forwarder and its center.
#
#   bench/forward.sh [-n MESSAGES] [-s BYTES] [-R RATE] [-r RUNS] [-o RESULTS.jsonl] [CASE ...]
#
# CASE is one of (default: both, in turn, RUNS times):
#   hark      `hark send` -> hark forward (TCP input, disk buffer) -> uplink
#             (zstd, HTTPS with client certificates) -> hark serve
#   rsyslog   `hark send` -> rsyslogd imtcp -> omrelp with a disk-assisted
#             queue -> rsyslogd imrelp -> omfile
#
# The sender sends MESSAGES syslog lines of BYTES bytes at RATE per second
# (default 20 000). Recorded per run: the rate at the center (messages
# over the time from its first to its last message kept), the CPU time per
# message of the edge and of the center (utime+stime from /proc, from the
# first message until everything is kept), the edge's resident size
# sampled every 0.5 s while the load runs (median and peak) and its VmHWM.
#
# Environment: HARK_BIN (default target/release/hark), RSYSLOGD (default
# rsyslogd; needs rsyslog-relp), BENCH_PORT_BASE (default 25340; uses
# base..base+3).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
messages=600000
size=200
rate=20000
runs=1
results=""
while getopts "n:s:R:r:o:h" opt; do
  case $opt in
    n) messages=$OPTARG ;;
    s) size=$OPTARG ;;
    R) rate=$OPTARG ;;
    r) runs=$OPTARG ;;
    o) results=$OPTARG ;;
    *) sed -n '2,21p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(hark rsyslog)

HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
RSYSLOGD=${RSYSLOGD:-rsyslogd}
base=${BENCH_PORT_BASE:-25340}
edge_port=$base uplink_port=$((base + 1)) center_http=$((base + 2)) relp_port=$((base + 3))
clk=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/hark-bench-forward.XXXXXX)
[ -n "$results" ] || results=$work/results.jsonl
: >"$results"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() {
  local p=$1
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  local keep=()
  for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  pids=("${keep[@]}")
}

# Waits until FILE has a line `ready`; fails with ERR's content if PID dies first.
wait_ready() {
  for _ in $(seq 1 600); do
    grep -q '^ready' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; return 1; }
    sleep 0.05
  done
  echo "not ready: $1" >&2
  return 1
}

# The center: hark serve with an uplink; sets center_pid and token.
start_center() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/hark.toml" <<EOF
data_dir = "$dir/data"
[http]
listen = "127.0.0.1:$center_http"
[inputs.unused]
type = "syslog"
transport = "udp"
listen = "127.0.0.1:$relp_port"
[uplink]
listen = "127.0.0.1:$uplink_port"
EOF
  "$HARK_BIN" serve --config "$dir/hark.toml" >"$dir/stdout" 2>"$dir/stderr" &
  center_pid=$!
  pids+=("$center_pid")
  wait_ready "$dir/stdout" "$center_pid" "$dir/stderr"
  token=$(awk '/^admin token:/ {print $3}' "$dir/stdout")
}

# The edge: hark forward with a TCP input named `bench`; sets edge_pid.
start_edge() {
  local dir=$1 center_cfg=$2
  mkdir -p "$dir"
  cat >"$dir/forward.toml" <<EOF
data_dir = "$dir/data"
[inputs.bench]
type = "syslog"
transport = "tcp"
listen = "127.0.0.1:$edge_port"
[forward]
name = "bench"
center = "https://127.0.0.1:$uplink_port"
EOF
  local enroll_token
  enroll_token=$("$HARK_BIN" forwarder enroll-token --group bench -c "$center_cfg")
  "$HARK_BIN" forward -c "$dir/forward.toml" --enroll "https://127.0.0.1:$uplink_port" \
    --token "$enroll_token" >"$dir/stdout" 2>"$dir/stderr" &
  edge_pid=$!
  pids+=("$edge_pid")
  wait_ready "$dir/stdout" "$edge_pid" "$dir/stderr"
}

# rsyslog at the edge: imtcp -> omrelp with a disk-assisted queue; sets edge_pid.
start_rsyslog_edge() {
  local dir=$1
  mkdir -p "$dir/work"
  cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" maxMessageSize="8k")
module(load="imtcp")
module(load="omrelp")
ruleset(name="fwd") {
  action(type="omrelp" target="127.0.0.1" port="$relp_port"
         action.resumeRetryCount="-1" action.resumeInterval="1"
         queue.type="LinkedList" queue.filename="fwd" queue.maxDiskSpace="10g"
         queue.saveOnShutdown="on" queue.size="100000")
}
input(type="imtcp" address="127.0.0.1" port="$edge_port" ruleset="fwd")
EOF
  "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/pid" >"$dir/stdout" 2>"$dir/stderr" &
  edge_pid=$!
  pids+=("$edge_pid")
  wait_port "$edge_port"
}

# rsyslog as the center: imrelp -> omfile; sets center_pid.
start_rsyslog_center() {
  local dir=$1
  mkdir -p "$dir/work"
  cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" maxMessageSize="8k")
module(load="imrelp")
ruleset(name="out" queue.type="LinkedList" queue.size="200000" queue.dequeueBatchSize="2048") {
  action(type="omfile" file="$dir/out.log" template="RSYSLOG_FileFormat"
         asyncWriting="on" ioBufferSize="1m" flushOnTXEnd="off" flushInterval="1")
}
input(type="imrelp" address="127.0.0.1" port="$relp_port" ruleset="out")
EOF
  "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/pid" >"$dir/stdout" 2>"$dir/stderr" &
  center_pid=$!
  pids+=("$center_pid")
  wait_port "$relp_port"
}

# Samples the edge's VmRSS (kB) every 0.5 s into FILE until stopped.
sample_rss() {
  while kill -0 "$1" 2>/dev/null; do
    status_kb "$1" VmRSS >>"$2" 2>/dev/null || true
    sleep 0.5
  done
}

run_case() {
  local kind=$1 run=$2 dir=$work/$1-$2
  mkdir -p "$dir"
  if [ "$kind" = hark ]; then
    start_center "$dir/center"
    start_edge "$dir/edge" "$dir/center/hark.toml"
  else
    start_rsyslog_center "$dir/center"
    start_rsyslog_edge "$dir/edge"
  fi
  local load ecpu0 ccpu0 sampler probe
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "[$kind run $run] $messages messages at $rate/s; load $load" >&2
  ecpu0=$(cpu_ticks "$edge_pid")
  ccpu0=$(cpu_ticks "$center_pid")
  sample_rss "$edge_pid" "$dir/rss" &
  sampler=$!
  "$HARK_BIN" send --target "127.0.0.1:$edge_port" --count "$messages" --size "$size" \
    --rate "$rate" --message "fwdbench {n}" >/dev/null &
  local sender=$!
  if [ "$kind" = hark ]; then
    probe=$(python3 "$here/count_probe.py" hark "http://127.0.0.1:$center_http" "$token" bench "$messages")
  else
    probe=$(python3 "$here/count_probe.py" file "$dir/center/out.log" "$messages")
  fi
  wait "$sender" || true
  local ecpu1 ccpu1 hwm
  ecpu1=$(cpu_ticks "$edge_pid")
  ccpu1=$(cpu_ticks "$center_pid")
  hwm=$(status_kb "$edge_pid" VmHWM)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  local rss_med rss_max
  rss_med=$(sort -n "$dir/rss" | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}')
  rss_max=$(sort -n "$dir/rss" | tail -1)
  stop "$edge_pid"
  stop "$center_pid"
  jq -nc --arg case "$kind" --argjson run "$run" --argjson n "$messages" --argjson size "$size" \
    --argjson offered "$rate" --argjson p "$probe" --argjson ecpu "$((ecpu1 - ecpu0))" \
    --argjson ccpu "$((ccpu1 - ccpu0))" --argjson clk "$clk" --argjson hwm "$hwm" \
    --argjson med "${rss_med:-0}" --argjson max "${rss_max:-0}" --argjson load "$load" \
    '{case: $case, run: $run, load1: $load, messages: $n, size: $size, offered_rate: $offered,
      kept: $p.kept, rate: ($p.kept / ([$p.done - $p.first, 0.02] | max)),
      edge_cpu_us_per_msg: ($ecpu / $clk * 1e6 / ([$p.kept, 1] | max)),
      center_cpu_us_per_msg: ($ccpu / $clk * 1e6 / ([$p.kept, 1] | max)),
      edge_rss_median_mib: ($med / 1024), edge_rss_max_mib: ($max / 1024),
      edge_peak_rss_mib: ($hwm / 1024)}' >>"$results"
  tail -1 "$results" >&2
  rm -rf "$dir"
}

for run in $(seq 1 "$runs"); do
  for c in "${cases[@]}"; do
    case $c in
      hark | rsyslog) run_case "$c" "$run" ;;
      *) echo "unknown case $c" >&2; exit 2 ;;
    esac
  done
done
cat "$results"
