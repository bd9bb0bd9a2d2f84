#!/usr/bin/env bash
# Query benchmark: loads the events of gen_events.py into a fresh Hark through
# POST /api/v1/ingest (explicit timestamps spread over 24 h), waits until all
# are searchable, then times the search API (bench/query_bench.py) and, on the
# same raw text, `rg -c NEEDLE` (hyperfine).
#
#   bench/query.sh [-n EVENTS] [-g DATA_DIR] [-e FRACTION] [-r RUNS] [-k]
#
# -n  events to generate when DATA_DIR has none (default 10000000)
# -g  where the generated files live (default /tmp/hark-bench-data); kept
#     between runs, since generating 10M events takes minutes
# -e  generate with that fraction of events carrying ECS network fields
#     (gen_events.py --ecs) and time only the CIDR, IP-range and numeric
#     queries on them; use its own -g directory
# -r  timed runs per query (default 30)
# -k  keep Hark's data directory and print its path (default: removed)
#
# Environment: HARK_BIN (default target/release/hark), BENCH_PORT_BASE
# (default 25150; uses base and base+1).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
events=10000000
gen=/tmp/hark-bench-data
runs=30
keep=0
ecs=""
while getopts "n:g:e:r:kh" opt; do
  case $opt in
    n) events=$OPTARG ;;
    g) gen=$OPTARG ;;
    e) ecs=$OPTARG ;;
    r) runs=$OPTARG ;;
    k) keep=1 ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
  esac
done
HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
base=${BENCH_PORT_BASE:-25150}
syslog_port=$base http_port=$((base + 1))

if [ ! -f "$gen/meta.json" ] || [ "$(jq .count "$gen/meta.json")" != "$events" ] \
  || { [ -n "$ecs" ] && [ "$(jq '.ecs.share // 0' "$gen/meta.json")" != "$ecs" ]; }; then
  echo "generating $events events into $gen" >&2
  python3 "$here/gen_events.py" -n "$events" -o "$gen" ${ecs:+--ecs "$ecs"}
fi
raw_bytes=$(jq .raw_bytes "$gen/meta.json")

work=$(mktemp -d /tmp/hark-bench-query.XXXXXX)
pid=""
sampler=""
cleanup() {
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$work/hark.toml" <<EOF
data_dir = "$work/data"

[http]
listen = "127.0.0.1:$http_port"

[inputs.bench]
type = "syslog"
transport = "tcp"
listen = "127.0.0.1:$syslog_port"

[storage]
fsync = "interval"
# One sealed split holds every event, as with the default at 10M events, so
# that compaction runs at any -n.
split_max_events = $events
EOF
"$HARK_BIN" serve --config "$work/hark.toml" >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 1 300); do
  grep -q '^ready' "$work/stdout" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
  sleep 0.05
done
token=$(awk '/^admin token:/ {print $3}' "$work/stdout")
url=http://127.0.0.1:$http_port

# Resident memory every second: total, the process's own (anonymous) and
# mapped files (the index), to tell what the peak is made of.
(
  while kill -0 "$pid" 2>/dev/null; do
    awk '$1 ~ /^(VmRSS|RssAnon|RssFile):$/ {printf "%s ", $2} END {print ""}' "/proc/$pid/status" 2>/dev/null || true
    sleep 1
  done
) >"$work/rss" &
sampler=$!

echo "loading $events events (uptime load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
cpu0=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
t0=$(date +%s.%N)
load=$(python3 "$here/load_ndjson.py" "$gen/events.ndjson" --url "$url" --token "$token")
t_loaded=$(date +%s.%N)
kept=$(python3 "$here/wait_kept.py" hark "$url" "$token" "$events" "$t_loaded" --timeout 1800)
t_indexed=$(date +%s.%N)
cpu1=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
clk=$(getconf CLK_TCK)
echo "load: $load; searchable: $kept" >&2
# Bytes once the sealed split is compacted (its merged segments' files are
# gone then): /metrics counts a compaction and none awaiting.
metric() {
  curl -sf "$url/metrics" | awk -v m="$1" '$1 == m {print $2; found = 1} END {if (!found) print 0}'
}
for _ in $(seq 1 1800); do
  [ "$(metric hark_index_compactions_total)" != 0 ] \
    && [ "$(metric hark_index_splits_awaiting_compaction)" = 0 ] && break
  sleep 1
done
t_compacted=$(date +%s.%N)
disk=$(du -sb "$work/data" | cut -f1)
wal=$(du -sb "$work/data/wal" 2>/dev/null | cut -f1 || echo 0)
hwm=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$pid/status")
rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status")

echo "timing queries ($runs runs each, uptime load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
qjson=$(python3 "$here/query_bench.py" --url "$url" --token "$token" --meta "$gen/meta.json" --runs "$runs" \
  ${ecs:+--only-ecs} 2>"$work/qtable")
rss_q=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status")
hwm_q=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$pid/status")

# The same needle over the same text with ripgrep (file in the page cache).
hyperfine --style none --warmup 2 --runs 10 --export-json "$work/rg.json" \
  "rg -c needledelta $gen/events.log" >&2
rg_med=$(jq '.results[0].median * 1000' "$work/rg.json")
rg_mean=$(jq '.results[0].mean * 1000' "$work/rg.json")
rg_count=$(rg -c needledelta "$gen/events.log")

echo
echo "Events: $events, raw RFC 5424 text $raw_bytes bytes; loaded with $(jq -c . <<<"$load")"
echo "Loaded → all searchable: $(jq .after_end_s <<<"$kept") s after the last ingest reply;" \
  "load + index wall time $(echo "$t_indexed - $t0" | bc) s;" \
  "server CPU $(echo "scale=2; ($cpu1 - $cpu0) / $clk" | bc) s" \
  "($(echo "scale=2; ($cpu1 - $cpu0) / $clk * 1000000 / $events" | bc) µs/event)"
echo "Disk: $disk bytes (WAL $wal) = $(echo "scale=3; $disk / $raw_bytes" | bc) × raw"
echo "Compacted: $(echo "$t_compacted - $t_indexed" | bc) s after all were searchable"
echo "RSS: peak $((hwm / 1024)) MiB while loading, $((rss / 1024)) MiB after; peak $((hwm_q / 1024)) MiB, $((rss_q / 1024)) MiB after the queries"
# The largest sample: how much of it was the process's own memory and how much mapped index files.
sort -n -k1,1 "$work/rss" | tail -1 | awk '{printf "RSS at the largest 1 s sample: %d MiB = %d MiB own (RssAnon) + %d MiB mapped files (RssFile)\n", $1 / 1024, $2 / 1024, $3 / 1024}'
echo
cat "$work/qtable"
echo "| rg -c needledelta events.log ($rg_count lines; hyperfine, 10 runs) | | | median $(printf %.1f "$rg_med") ms, mean $(printf %.1f "$rg_mean") ms | |"
