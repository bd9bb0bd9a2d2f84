#!/usr/bin/env bash
# Body-parsing benchmark: real vendor logs (crates/hark-parse/samples)
# replayed by syslog-ng's loggen over one TCP connection on 127.0.0.1 as
# fast as it goes, into Hark with `parsers = ["auto"]` (parsed, indexed and
# searchable) and, in the same run, into syslog-ng parsing the same lines
# with its nearest parser (kv-parser(), or csv-parser() with PAN-OS'
# columns) and writing them as JSON to a file. The `plain` case sends
# loggen's own RFC 5424 200-byte messages (as bench/ingest.sh does) to Hark
# with `parsers = []` and with `parsers = ["auto"]`: what auto-detection
# costs on syslog that no format claims.
#
#   bench/parse.sh [-n LINES] [-r RUNS] [-o RESULTS.jsonl] [CASE ...]
#
# CASE is a format with samples (fortigate, panos, cef, cisco, linux_auth,
# kv, leef, json, windows) or plain; default: fortigate panos cef cisco
# linux_auth kv plain. Each run goes through every case, its receivers in
# turn (format: Hark, syslog-ng; plain: Hark without parsers, Hark with
# auto), so a peer shares the machine's state with Hark.
# Per receiver and run it records loggen's rate, the rate end to end
# (messages kept over the time from the start of the load until the last is
# kept: Hark indexed and searchable, syslog-ng written), CPU time per
# message (utime+stime from /proc, from just before the load until
# everything is kept), peak RSS, and how many events the format's parser
# claimed (Hark: a search on a field the format always writes; syslog-ng:
# JSON lines holding the parser's prefix).
# Prints one markdown row per receiver and run, then the medians.
#
# Environment: HARK_BIN (default target/release/hark), SYSLOGNG_ROOT
# (default /opt/hark-peers/syslog-ng, an unpacked syslog-ng-core package),
# BENCH_PORT_BASE (default 25160; uses base..base+2).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
lines=1000000
runs=1
results=""
while getopts "n:r:o:h" opt; do
  case $opt in
    n) lines=$OPTARG ;;
    r) runs=$OPTARG ;;
    o) results=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(fortigate panos cef cisco linux_auth kv plain)

SYSLOGNG_ROOT=${SYSLOGNG_ROOT:-/opt/hark-peers/syslog-ng}
bench_env 25160
hark_port=$syslog_port hark_http=$http_port sng_port=$driver_port
export LD_LIBRARY_PATH=$SYSLOGNG_ROOT/usr/lib/syslog-ng${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export SYSLOGNG_PREFIX=$SYSLOGNG_ROOT/usr
loggen=$SYSLOGNG_ROOT/usr/bin/loggen
clk=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/hark-bench-parse.XXXXXX)
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

# A query whose total is the events the format's parser claimed.
claimed_query() {
  case $1 in
    fortigate) echo 'event.dataset:fortinet.firewall' ;;
    panos) echo 'event.dataset:panw.panos' ;;
    cisco) echo 'observer.vendor:Cisco' ;;
    cef) echo 'event.dataset:cef' ;;
    leef) echo 'event.dataset:leef' ;;
    linux_auth) echo 'event.dataset:system.auth' ;;
    windows) echo 'winlog.channel:*' ;;
    kv) echo 'msg:* OR answer:*' ;;
    json) echo 'log.level:* OR msg:*' ;;
    *) echo '*' ;;
  esac
}

stop_receiver() {
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

start_hark() {
  local dir=$1 parsers=$2
  mkdir -p "$dir"
  cat >"$dir/hark.toml" <<EOF
data_dir = "$dir/data"

[http]
listen = "127.0.0.1:$hark_http"

[inputs.bench]
type = "syslog"
transport = "tcp"
listen = "127.0.0.1:$hark_port"
parsers = $parsers

[storage]
fsync = "interval"
EOF
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

# syslog-ng reading the lines as RFC 3164 (network()), parsing their bodies
# with the format's nearest parser and writing every message as JSON.
start_syslog_ng() {
  local dir=$1 format=$2
  mkdir -p "$dir"
  cat >"$dir/syslog-ng.conf" <<EOF
@version: 3.38
options { threaded(yes); use_dns(no); dns_cache(no); keep_hostname(yes); chain_hostnames(no);
          stats_freq(0); log_fifo_size(200000); flush_lines(1000); mark_freq(0); log_msg_size(65536); };
source s_tcp { network(ip("127.0.0.1") port($sng_port) transport("tcp") max_connections(200) log_iw_size(200000) log_fetch_limit(1000) log_msg_size(65536)); };
destination d_json { file("$dir/out.json" template("\$(format-json --scope rfc5424 --scope nv-pairs)\n") flush_lines(1000) log_fifo_size(200000)); };
log {
  source(s_tcp);
  $(python3 "$here/gen_replay.py" syslog-ng "$format")
  destination(d_json);
  flags(flow-control);
};
EOF
  "$SYSLOGNG_ROOT/usr/sbin/syslog-ng" -F --no-caps -f "$dir/syslog-ng.conf" \
    --module-path="$SYSLOGNG_ROOT/usr/lib/syslog-ng/3.38" \
    -R "$dir/persist" -p "$dir/pid" -c "$dir/ctl" >"$dir/stdout" 2>"$dir/stderr" &
  pid=$!
  port=$sng_port
  wait_port "$port"
}

# Makes (once per invocation) the replay file of FORMAT with $lines lines.
replay_file() {
  local f=$work/replay-$1.log
  if [ ! -f "$f" ]; then
    python3 "$here/gen_replay.py" lines "$1" -n "$lines" -o "$f" >"$f.json"
  fi
  echo "$f"
}

# One load: CASE (a format or plain), RECEIVER (hark-auto, hark-none or syslog-ng), RUN.
run_one() {
  local case=$1 recv=$2 run=$3 dir=$work/$1-$2-$3
  local input sent_bytes=""
  token="" port=""
  case $recv in
    hark-auto) start_hark "$dir" '["auto"]' ;;
    hark-none) start_hark "$dir" '[]' ;;
    syslog-ng) start_syslog_ng "$dir" "$case" ;;
    *) echo "unknown receiver $recv" >&2; return 2 ;;
  esac
  sleep 2
  local cpu0 cpu1 t0 t_end out rate count kept kept_json after hwm claimed=""
  cpu0=$(cpu_ticks "$pid")
  echo "[$case $recv run $run] $lines messages, uptime load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  t0=$(date +%s.%N)
  if [ "$case" = plain ]; then
    out=$("$loggen" --inet --stream --rate 1000000 --interval 3600 --number "$lines" --size 200 \
      --syslog-proto 127.0.0.1 "$port" 2>&1)
  else
    input=$(replay_file "$case")
    sent_bytes=$(jq .bytes "$input.json")
    # loggen stops after --interval seconds (10 by default) even mid-file.
    out=$("$loggen" --inet --stream --rate 1000000 --interval 3600 --read-file "$input" --dont-parse \
      127.0.0.1 "$port" 2>&1)
  fi
  t_end=$(date +%s.%N)
  rate=$(sed -n 's/.*average rate = \([0-9.]*\) msg\/sec.*/\1/p' <<<"$out" | tail -1)
  count=$(sed -n 's/.*average rate = .*count=\([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  if [ -z "$count" ]; then
    echo "loggen said: $out" >&2
    stop_receiver
    return 1
  fi
  if [ "$recv" = syslog-ng ]; then
    kept_json=$(python3 "$here/wait_kept.py" file "$dir/out.json" "$count" "$t_end")
  else
    kept_json=$(python3 "$here/wait_kept.py" hark "http://127.0.0.1:$hark_http" "$token" "$count" "$t_end")
  fi
  cpu1=$(cpu_ticks "$pid")
  hwm=$(status_kb "$pid" VmHWM)
  kept=$(jq -r .kept <<<"$kept_json")
  after=$(jq -r .after_end_s <<<"$kept_json")
  if [ "$case" != plain ]; then
    if [ "$recv" = syslog-ng ]; then
      local prefix=kv
      [ "$case" = panos ] && prefix=panos
      [ "$case" = json ] && prefix=json
      claimed=$(grep -c "\"$prefix\":" "$dir/out.json" || true)
    else
      claimed=$(curl -sfG "http://127.0.0.1:$hark_http/api/v1/search" -H "Authorization: Bearer $token" \
        --data-urlencode "q=$(claimed_query "$case")" --data-urlencode limit=1 | jq .total)
    fi
  fi
  stop_receiver
  jq -nc --arg case "$case" --arg receiver "$recv" --argjson run "$run" \
    --argjson rate "$rate" --argjson sent "$count" --argjson kept "$kept" --argjson after "$after" \
    --argjson t0 "$t0" --argjson t_end "$t_end" --argjson cpu_ticks "$((cpu1 - cpu0))" --argjson clk "$clk" \
    --argjson hwm_kb "$hwm" --arg claimed "$claimed" --arg sent_bytes "$sent_bytes" \
    '{case: $case, receiver: $receiver, run: $run, loggen_rate: $rate, sent: $sent, kept: $kept,
      kept_after_end_s: $after, load_s: ($t_end - $t0),
      end_to_end_rate: ($kept / ($t_end - $t0 + $after)),
      cpu_s: ($cpu_ticks / $clk),
      cpu_us_per_msg: (if $kept > 0 then $cpu_ticks / $clk * 1e6 / $kept else null end),
      peak_rss_mib: ($hwm_kb / 1024),
      claimed: (if $claimed == "" then null else ($claimed | tonumber) end),
      bytes_per_msg: (if $sent_bytes == "" then 200 else ($sent_bytes | tonumber) / $sent end)}' >>"$results"
  tail -1 "$results" >&2
  rm -rf "$dir"
}

for run in $(seq 1 "$runs"); do
  for c in "${cases[@]}"; do
    if [ "$c" = plain ]; then
      run_one plain hark-none "$run"
      run_one plain hark-auto "$run"
    else
      run_one "$c" hark-auto "$run"
      run_one "$c" syslog-ng "$run"
    fi
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
    claimed = "–" if r.get("claimed") is None else f"{f(r['claimed'])} ({r['claimed'] / r['kept'] * 100 if r['kept'] else 0:.0f}%)"
    return (f"| {r['case']} | {r['receiver']} | {r.get('run', 'median')} | {f(r['bytes_per_msg'])} | {f(r['loggen_rate'])} | "
            f"**{f(r['end_to_end_rate'])}** | {f(r['kept'])} ({lost:.2f}% lost) | {f(r['cpu_us_per_msg'], 2)} | "
            f"{f(r['peak_rss_mib'])} | {f(r['kept_after_end_s'], 2)} | {claimed} |")
head = ("| case | receiver | run | bytes/msg | loggen msg/s | msg/s end to end | kept | CPU µs/msg | peak RSS MiB | "
        "s from end of load to all kept | claimed by the parser |\n|---|---|---|---|---|---|---|---|---|---|---|")
print(head)
for r in rows:
    print(row(r))
keys = list(dict.fromkeys((r["case"], r["receiver"]) for r in rows))
if len(rows) > len(keys):
    print("\nMedians per case and receiver:\n")
    print(head)
    for c, n in keys:
        rs = [r for r in rows if r["case"] == c and r["receiver"] == n]
        med = {"case": c, "receiver": n, "run": f"median of {len(rs)}"}
        for k in rs[0]:
            if k not in med:
                vals = [r[k] for r in rs if r.get(k) is not None]
                med[k] = statistics.median(vals) if vals else None
        print(row(med))
EOF
