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
runs=30
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
keep=0
ecs=""
while getopts "n:g:e:r:kh" opt; do
  shared_opt "$opt" "${OPTARG:-}" && continue
  case $opt in
    e) ecs=$OPTARG ;;
    k) keep=1 ;;
    *) usage ;;
  esac
done
bench_env 25150
ensure_events "$ecs"
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

serve_hark "$work" <<EOF

[storage]
fsync = "interval"
# One sealed split holds every event, as with the default at 10M events, so
# that compaction runs at any -n.
split_max_events = $events
EOF
pid=$hark_pid

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
cpu0=$(cpu_ticks "$pid")
load_events
t_indexed=$(date +%s.%N)
cpu1=$(cpu_ticks "$pid")
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
