#!/usr/bin/env bash
# Ingest benchmark: Hark, rsyslog and syslog-ng in the same run, each fed by
# syslog-ng's loggen over TCP on 127.0.0.1 with RFC 5424 octet-counted
# 200-byte messages as fast as one connection goes.
#
#   bench/ingest.sh [-d SECONDS] [-r RUNS] [-o RESULTS.jsonl] [RECEIVER ...]
#
# RECEIVER is hark, rsyslog or syslog-ng (default: all three, in turn).
# Per receiver and run it records loggen's rate and count, what the receiver
# kept (Hark: the search total; peers: lines in the output file), its CPU
# time per message (utime+stime from /proc, from just before the load until
# everything is kept), peak RSS (VmHWM), and for Hark the idle RSS before the
# load and IDLE_WAIT seconds (default 30) after its data directory stopped
# changing (also its anonymous part, RssAnon), the delay from the end of the
# load until every message is searchable, and its data directory's size
# against the bytes sent.
# Prints one markdown row per receiver and run, then the medians.
#
# Environment: HARK_BIN (default target/release/hark), HARK_EXTRA_TOML (a
# file appended to Hark's configuration, e.g. alert rules), SYSLOGNG_ROOT
# (default /opt/hark-peers/syslog-ng, an unpacked syslog-ng-core package),
# RSYSLOGD (default rsyslogd), BENCH_PORT_BASE (default 25140; uses base..base+3).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
duration=60
runs=1
results=""
while getopts "d:r:o:h" opt; do
  case $opt in
    d) duration=$OPTARG ;;
    r) runs=$OPTARG ;;
    o) results=$OPTARG ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
receivers=("$@")
[ ${#receivers[@]} -gt 0 ] || receivers=(hark rsyslog syslog-ng)

HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
SYSLOGNG_ROOT=${SYSLOGNG_ROOT:-/opt/hark-peers/syslog-ng}
RSYSLOGD=${RSYSLOGD:-rsyslogd}
base=${BENCH_PORT_BASE:-25140}
hark_port=$base hark_http=$((base + 1)) rs_port=$((base + 2)) sng_port=$((base + 3))
export LD_LIBRARY_PATH=$SYSLOGNG_ROOT/usr/lib/syslog-ng${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export SYSLOGNG_PREFIX=$SYSLOGNG_ROOT/usr
loggen=$SYSLOGNG_ROOT/usr/bin/loggen
clk=$(getconf CLK_TCK)
idle_wait=${IDLE_WAIT:-30}

work=$(mktemp -d /tmp/hark-bench-ingest.XXXXXX)
[ -n "$results" ] || results=$work/results.jsonl
: >"$results"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Bytes under a directory once they stop changing (merges finished), at most a minute.
settled_size() {
  local prev=-1 cur
  for _ in $(seq 1 30); do
    sleep 2
    cur=$(du -sb "$1" | cut -f1)
    [ "$cur" = "$prev" ] && break
    prev=$cur
  done
  echo "$cur"
}

stop_receiver() {
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

start_hark() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/hark.toml" <<EOF
data_dir = "$dir/data"

[http]
listen = "127.0.0.1:$hark_http"

[inputs.bench]
type = "syslog"
transport = "tcp"
listen = "127.0.0.1:$hark_port"

[storage]
fsync = "interval"
EOF
  if [ -n "${HARK_EXTRA_TOML:-}" ]; then cat "$HARK_EXTRA_TOML" >>"$dir/hark.toml"; fi
  "$HARK_BIN" serve --config "$dir/hark.toml" >"$dir/stdout" 2>"$dir/stderr" &
  pid=$!
  for _ in $(seq 1 300); do
    grep -q '^ready' "$dir/stdout" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/stderr" >&2; return 1; }
    sleep 0.05
  done
  token=$(awk '/^admin token:/ {print $3}' "$dir/stdout")
  port=$hark_port
}

start_rsyslog() {
  local dir=$1
  mkdir -p "$dir/work"
  cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" maxMessageSize="8k")
module(load="imtcp" MaxSessions="200")
main_queue(queue.type="LinkedList" queue.size="200000" queue.dequeueBatchSize="2048")
ruleset(name="bench" queue.type="LinkedList" queue.size="200000" queue.dequeueBatchSize="2048") {
  action(type="omfile" file="$dir/out.log" template="RSYSLOG_FileFormat"
         asyncWriting="on" ioBufferSize="1m" flushOnTXEnd="off" flushInterval="1")
}
input(type="imtcp" address="127.0.0.1" port="$rs_port" ruleset="bench")
EOF
  "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/pid" >"$dir/stdout" 2>"$dir/stderr" &
  pid=$!
  port=$rs_port
  wait_port "$port"
}

start_syslog_ng() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/syslog-ng.conf" <<EOF
@version: 3.38
options { threaded(yes); use_dns(no); dns_cache(no); keep_hostname(yes); chain_hostnames(no);
          stats_freq(0); log_fifo_size(200000); flush_lines(1000); mark_freq(0); };
source s_5424 { syslog(ip("127.0.0.1") port($sng_port) transport("tcp") max_connections(200) log_iw_size(200000) log_fetch_limit(1000)); };
destination d_file { file("$dir/out.log" flush_lines(1000) log_fifo_size(200000)); };
log { source(s_5424); destination(d_file); flags(flow-control); };
EOF
  "$SYSLOGNG_ROOT/usr/sbin/syslog-ng" -F --no-caps -f "$dir/syslog-ng.conf" \
    --module-path="$SYSLOGNG_ROOT/usr/lib/syslog-ng/3.38" \
    -R "$dir/persist" -p "$dir/pid" -c "$dir/ctl" >"$dir/stdout" 2>"$dir/stderr" &
  pid=$!
  port=$sng_port
  wait_port "$port"
}

run_one() {
  local name=$1 run=$2 dir=$work/$1-$2
  token="" port=""
  case $name in
    hark) start_hark "$dir" ;;
    rsyslog) start_rsyslog "$dir" ;;
    syslog-ng) start_syslog_ng "$dir" ;;
    *) echo "unknown receiver $name" >&2; return 2 ;;
  esac
  sleep 2
  local idle_kb cpu0 cpu1 t_end out rate count size kept kept_json after hwm disk="" idle_after_kb="" idle_after_anon_kb=""
  idle_kb=$(status_kb "$pid" VmRSS)
  cpu0=$(cpu_ticks "$pid")
  echo "[$name run $run] load: ${duration}s, uptime load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  out=$("$loggen" --inet --stream --rate 1000000 --interval "$duration" --size 200 \
    --syslog-proto 127.0.0.1 "$port" 2>&1)
  t_end=$(date +%s.%N)
  rate=$(sed -n 's/.*average rate = \([0-9.]*\) msg\/sec.*/\1/p' <<<"$out" | tail -1)
  count=$(sed -n 's/.*average rate = .*count=\([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  size=$(sed -n 's/.*average rate = .*msg size=\([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  if [ -z "$count" ]; then
    echo "loggen said: $out" >&2
    stop_receiver
    return 1
  fi
  if [ "$name" = hark ]; then
    kept_json=$(python3 "$here/wait_kept.py" hark "http://127.0.0.1:$hark_http" "$token" "$count" "$t_end")
  else
    kept_json=$(python3 "$here/wait_kept.py" file "$dir/out.log" "$count" "$t_end")
  fi
  cpu1=$(cpu_ticks "$pid")
  hwm=$(status_kb "$pid" VmHWM)
  kept=$(jq -r .kept <<<"$kept_json")
  after=$(jq -r .after_end_s <<<"$kept_json")
  if [ "$name" = hark ]; then
    # Let the last merges finish before measuring the data directory.
    disk=$(settled_size "$dir/data")
    # Idle means idle for a while: the allocator returns freed pages to the
    # system after about 20 s without use.
    sleep "$idle_wait"
    idle_after_kb=$(status_kb "$pid" VmRSS)
    idle_after_anon_kb=$(status_kb "$pid" RssAnon)
    hwm=$(status_kb "$pid" VmHWM)
  fi
  stop_receiver
  jq -nc --arg receiver "$name" --argjson run "$run" --argjson duration "$duration" \
    --argjson rate "$rate" --argjson sent "$count" --argjson kept "$kept" \
    --argjson after "$after" --argjson cpu_ticks "$((cpu1 - cpu0))" --argjson clk "$clk" \
    --argjson size "${size:-200}" --argjson hwm_kb "$hwm" --argjson idle_kb "$idle_kb" \
    --arg idle_after_kb "$idle_after_kb" --arg idle_after_anon_kb "$idle_after_anon_kb" --arg disk "$disk" \
    '{receiver: $receiver, run: $run, duration: $duration, loggen_rate: $rate, sent: $sent, kept: $kept,
      kept_after_end_s: $after, cpu_s: ($cpu_ticks / $clk),
      cpu_us_per_msg: (if $kept > 0 then $cpu_ticks / $clk * 1e6 / $kept else null end),
      peak_rss_mib: ($hwm_kb / 1024), idle_rss_mib: ($idle_kb / 1024),
      idle_after_rss_mib: (if $idle_after_kb == "" then null else ($idle_after_kb | tonumber) / 1024 end),
      idle_after_anon_mib: (if $idle_after_anon_kb == "" then null else ($idle_after_anon_kb | tonumber) / 1024 end),
      disk_bytes: (if $disk == "" then null else ($disk | tonumber) end),
      msg_bytes: $size, raw_bytes: ($sent * $size),
      disk_ratio: (if $disk == "" then null else ($disk | tonumber) / ($sent * $size) end)}' >>"$results"
  tail -1 "$results" >&2
  rm -rf "$dir"
}

for run in $(seq 1 "$runs"); do
  for r in "${receivers[@]}"; do
    run_one "$r" "$run"
  done
done

python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def f(x, nd=0):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}".replace(",", " ")
def row(r):
    lost = (r["sent"] - r["kept"]) / r["sent"] * 100 if r["sent"] else 0
    hark = r["receiver"] == "hark"
    return (f"| {r['receiver']} | {r.get('run', 'median')} | {f(r['loggen_rate'])} | {f(r['sent'])} | {f(r['kept'])} ({lost:.2f}% lost) | "
            f"{f(r['cpu_us_per_msg'], 2)} | {f(r['peak_rss_mib'])} | "
            f"{f(r['idle_rss_mib']) if hark else '–'} / {f(r['idle_after_rss_mib'])} | "
            f"{f(r['kept_after_end_s'], 2) if hark else '(' + f(r['kept_after_end_s'], 2) + ')'} | "
            f"{f(r.get('disk_ratio'), 3) if r.get('disk_ratio') else '–'} |")
head = ("| receiver | run | loggen msg/s | sent | kept | CPU µs/msg | peak RSS MiB | idle RSS MiB before / after | "
        "s from end of load to all kept (Hark: searchable) | disk / raw |\n|---|---|---|---|---|---|---|---|---|---|")
print(head)
for r in rows:
    print(row(r))
names = list(dict.fromkeys(r["receiver"] for r in rows))
if len(rows) > len(names):
    print("\nMedians per receiver:\n")
    print(head)
    for n in names:
        rs = [r for r in rows if r["receiver"] == n]
        med = {"receiver": n, "run": f"median of {len(rs)}"}
        for k in rs[0]:
            if k not in med:
                vals = [r[k] for r in rs if r[k] is not None]
                med[k] = statistics.median(vals) if vals else None
        print(row(med))
EOF
