#!/usr/bin/env bash
# Acknowledged-input benchmark: RELP and Beats on 127.0.0.1.
#
#   bench/reliable.sh [-n MESSAGES] [-s BYTES] [-w WINDOW] [-r RUNS] [-o RESULTS.jsonl] [CASE ...]
#
# CASE is one of (default: all, in turn, RUNS times):
#   relp-hark      rsyslog omrelp -> Hark's RELP input (acks once in the WAL)
#   relp-rsyslog   rsyslog omrelp -> rsyslog imrelp -> omfile (the peer)
#   beats-send     `hark send --protocol beats` (windows of 512) -> Hark
#   beats-pylogbeat  pylogbeat (windows of 512) -> Hark
#
# RELP: a sending rsyslogd gets MESSAGES syslog lines of BYTES bytes through
# imtcp (from `hark send`) while its omrelp action has no receiver, so they
# all wait in its action queue; then the receiver starts, omrelp connects
# (resumeInterval 1 s) and drains the queue with a window of WINDOW
# unacknowledged messages (omrelp's default, 128, unless -w).
# The rate is MESSAGES over the time from the receiver's first to its last
# message (Hark: in the WAL, i.e. acknowledged; rsyslog: lines in its file).
# Beats: the client sends MESSAGES events whose message is BYTES bytes and
# waits for every window's ack; the rate is the client's own (messages over
# the time from its first byte to its last ack).
# Both also record the receiver's CPU time per message (utime+stime from
# /proc, from its start until everything is kept), its peak RSS, and for
# Hark the time until everything is searchable.
#
# Environment: HARK_BIN (default target/release/hark), RSYSLOGD (default
# rsyslogd; needs the rsyslog-relp package), BENCH_PORT_BASE (default 25240;
# uses base..base+3).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
messages=300000
size=200
window=128
runs=1
results=""
while getopts "n:s:w:r:o:h" opt; do
  case $opt in
    n) messages=$OPTARG ;;
    s) size=$OPTARG ;;
    w) window=$OPTARG ;;
    r) runs=$OPTARG ;;
    o) results=$OPTARG ;;
    *) sed -n '2,28p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(relp-hark relp-rsyslog beats-send beats-pylogbeat)

HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
RSYSLOGD=${RSYSLOGD:-rsyslogd}
base=${BENCH_PORT_BASE:-25240}
sender_port=$base recv_port=$((base + 1)) hark_http=$((base + 2))
clk=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/hark-bench-reliable.XXXXXX)
[ -n "$results" ] || results=$work/results.jsonl
: >"$results"
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
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

# Starts Hark with one input; sets hark_pid and token.
start_hark() {
  local dir=$1 table=$2
  mkdir -p "$dir"
  cat >"$dir/hark.toml" <<EOF
data_dir = "$dir/data"

[http]
listen = "127.0.0.1:$hark_http"

[inputs.bench]
listen = "127.0.0.1:$recv_port"
$table

[storage]
fsync = "interval"
EOF
  "$HARK_BIN" serve --config "$dir/hark.toml" >"$dir/stdout" 2>"$dir/stderr" &
  hark_pid=$!
  pids+=("$hark_pid")
  for _ in $(seq 1 300); do
    grep -q '^ready' "$dir/stdout" 2>/dev/null && break
    kill -0 "$hark_pid" 2>/dev/null || { cat "$dir/stderr" >&2; return 1; }
    sleep 0.05
  done
  token=$(awk '/^admin token:/ {print $3}' "$dir/stdout")
}

# The sending rsyslogd: imtcp in, omrelp out to the receiver's port, with a
# queue that holds every message while the receiver is not there yet.
start_sender() {
  local dir=$1
  mkdir -p "$dir/work"
  local q=$((messages * 2))
  cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" maxMessageSize="8k")
module(load="imtcp")
module(load="omrelp")
main_queue(queue.type="LinkedList" queue.size="$q")
ruleset(name="fwd") {
  action(type="omrelp" target="127.0.0.1" port="$recv_port" windowSize="$window"
         action.resumeRetryCount="-1" action.resumeInterval="1"
         queue.type="LinkedList" queue.size="$q")
}
input(type="imtcp" address="127.0.0.1" port="$sender_port" ruleset="fwd")
EOF
  "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/pid" >"$dir/stdout" 2>"$dir/stderr" &
  sender_pid=$!
  pids+=("$sender_pid")
  wait_port "$sender_port"
}

# The peer: rsyslogd with imrelp writing every message to a file; sets peer_pid.
start_peer() {
  local dir=$1
  mkdir -p "$dir/work"
  local q=$((messages * 2))
  cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" maxMessageSize="8k")
module(load="imrelp")
main_queue(queue.type="LinkedList" queue.size="$q" queue.dequeueBatchSize="2048")
ruleset(name="out" queue.type="LinkedList" queue.size="$q" queue.dequeueBatchSize="2048") {
  action(type="omfile" file="$dir/out.log" template="RSYSLOG_FileFormat"
         asyncWriting="on" ioBufferSize="1m" flushOnTXEnd="off" flushInterval="1")
}
input(type="imrelp" address="127.0.0.1" port="$recv_port" ruleset="out")
EOF
  "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/pid" >"$dir/stdout" 2>"$dir/stderr" &
  peer_pid=$!
  pids+=("$peer_pid")
}

record() {
  tail -1 "$results" >&2
}

relp_run() {
  local receiver=$1 run=$2 dir=$work/relp-$1-$2
  mkdir -p "$dir"
  start_sender "$dir/sender"
  "$HARK_BIN" send --target "127.0.0.1:$sender_port" --count "$messages" --size "$size" \
    --message "relpbench {n}" >/dev/null
  # Let everything sent reach omrelp's queue.
  sleep 3
  local rpid cpu0 probe load
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "[relp-$receiver run $run] $messages messages queued; load $load" >&2
  if [ "$receiver" = hark ]; then
    start_hark "$dir/hark" 'type = "relp"'
    rpid=$hark_pid
    cpu0=$(cpu_ticks "$rpid")
    probe=$(python3 "$here/count_probe.py" hark "http://127.0.0.1:$hark_http" "$token" bench "$messages")
  else
    start_peer "$dir/peer"
    rpid=$peer_pid
    cpu0=$(cpu_ticks "$rpid")
    probe=$(python3 "$here/count_probe.py" file "$dir/peer/out.log" "$messages")
  fi
  local cpu1 hwm
  cpu1=$(cpu_ticks "$rpid")
  hwm=$(status_kb "$rpid" VmHWM)
  stop "$rpid"
  stop "$sender_pid"
  jq -nc --arg case "relp-$receiver" --argjson run "$run" --argjson n "$messages" \
    --argjson size "$size" --argjson p "$probe" --argjson cpu "$((cpu1 - cpu0))" \
    --argjson clk "$clk" --argjson hwm "$hwm" --argjson load "$load" \
    --argjson window "$window" \
    '{case: $case, run: $run, load1: $load, messages: $n, size: $size, window: $window, kept: $p.kept,
      rate: ($p.kept / ([$p.done - $p.first, 0.02] | max)), seconds: ($p.done - $p.first),
      searchable_after_s: (if $p.searchable then $p.searchable - $p.done else null end),
      cpu_us_per_msg: ($cpu / $clk * 1e6 / $p.kept), peak_rss_mib: ($hwm / 1024)}' >>"$results"
  record
  rm -rf "$dir"
}

# pylogbeat sending MESSAGES events in windows of 512; prints its own rate.
PYLOGBEAT='
import sys, time
from pylogbeat import PyLogBeatClient
port, n, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def event(i):
    text = f"beatsbench {i} "
    return {"@timestamp": "2026-11-22T10:00:00.000Z", "message": text + "x" * max(0, size - len(text)),
            "host": {"name": "bench"}, "agent": {"type": "pylogbeat"}, "fields": {"n": i}}
events = [event(i) for i in range(1, n + 1)]
start = time.perf_counter()
with PyLogBeatClient("127.0.0.1", port, ssl_enable=False, timeout=60) as client:
    for at in range(0, n, 512):
        client.send(events[at:at + 512])
took = time.perf_counter() - start
print(f"sent {n} messages in {took:.3f} s ({n / took:.0f} msg/s)")
'

beats_run() {
  local client=$1 run=$2 dir=$work/beats-$1-$2
  start_hark "$dir" 'type = "beats"'
  sleep 1
  local cpu0 out rate t_end probe cpu1 hwm load
  cpu0=$(cpu_ticks "$hark_pid")
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "[beats-$client run $run] load $load" >&2
  if [ "$client" = send ]; then
    out=$("$HARK_BIN" send --protocol beats --target "127.0.0.1:$recv_port" \
      --count "$messages" --size "$size" --message "beatsbench {n}")
  else
    out=$(python3 -c "$PYLOGBEAT" "$recv_port" "$messages" "$size")
  fi
  t_end=$(date +%s.%N)
  rate=$(sed -n 's/.*(\([0-9.]*\) msg\/s).*/\1/p' <<<"$out")
  probe=$(python3 "$here/count_probe.py" hark "http://127.0.0.1:$hark_http" "$token" bench "$messages")
  cpu1=$(cpu_ticks "$hark_pid")
  hwm=$(status_kb "$hark_pid" VmHWM)
  stop "$hark_pid"
  jq -nc --arg case "beats-$client" --argjson run "$run" --argjson n "$messages" \
    --argjson size "$size" --argjson p "$probe" --argjson cpu "$((cpu1 - cpu0))" \
    --argjson clk "$clk" --argjson hwm "$hwm" --argjson rate "$rate" --argjson t_end "$t_end" \
    --argjson load "$load" \
    '{case: $case, run: $run, load1: $load, messages: $n, size: $size, kept: $p.kept, rate: $rate,
      seconds: ($n / $rate), searchable_after_s: ([$p.searchable - $t_end, 0] | max),
      cpu_us_per_msg: ($cpu / $clk * 1e6 / $p.kept), peak_rss_mib: ($hwm / 1024)}' >>"$results"
  record
  rm -rf "$dir"
}

for run in $(seq 1 "$runs"); do
  for c in "${cases[@]}"; do
    case $c in
      relp-hark) relp_run hark "$run" ;;
      relp-rsyslog) relp_run rsyslog "$run" ;;
      beats-send) beats_run send "$run" ;;
      beats-pylogbeat) beats_run pylogbeat "$run" ;;
      *) echo "unknown case $c" >&2; exit 2 ;;
    esac
  done
done

python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def f(x, nd=0):
    return "–" if x is None else f"{x:,.{nd}f}".replace(",", " ")
head = ("| case | runs | messages × bytes | kept | msg/s (each run) | **median msg/s** | CPU µs/msg | peak RSS MiB | "
        "s from last ack to searchable | load (1 min) |\n|---|---|---|---|---|---|---|---|---|---|")
print(head)
for r in rows:
    if r.get("window"):
        r["case"] += f" (window {r['window']})"
for name in dict.fromkeys(r["case"] for r in rows):
    rs = [r for r in rows if r["case"] == name]
    med = lambda k: statistics.median([r[k] for r in rs if r[k] is not None]) if any(r[k] is not None for r in rs) else None
    print(f"| {name} | {len(rs)} | {f(rs[0]['messages'])} × {rs[0]['size']} | "
          f"{' · '.join(f(r['kept']) for r in rs)} | {' · '.join(f(r['rate']) for r in rs)} | "
          f"**{f(med('rate'))}** | {f(med('cpu_us_per_msg'), 2)} | {f(med('peak_rss_mib'))} | "
          f"{f(med('searchable_after_s'), 2)} | {' · '.join(str(r['load1']) for r in rs)} |")
EOF
