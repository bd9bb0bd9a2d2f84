#!/usr/bin/env bash
# Web UI benchmark: loads the events of gen_events.py into a fresh Hark (as
# bench/query.sh does), then measures the UI in headless Chromium through
# chromedriver (bench/ui_bench.mjs): bytes of the first page, Enter → 100
# hits and the histogram painted per query, and long tasks on the live tail
# while `hark send` delivers 2 000 events/s.
#
#   bench/ui.sh [-n EVENTS] [-g DATA_DIR] [-r RUNS] [-t TAIL_SECONDS]
#
# -n  events to generate when DATA_DIR has none (default 10000000)
# -g  where the generated files live (default /tmp/hark-bench-data)
# -r  timed runs per query (default 15)
# -t  seconds of live tail at 2 000 events/s (default 20)
#
# Environment: HARK_BIN (default target/release/hark), BENCH_PORT_BASE
# (default 25160; uses base, base+1 and base+2). Needs chromium,
# chromium-driver and node.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
events=10000000
gen=/tmp/hark-bench-data
runs=15
tail_s=20
while getopts "n:g:r:t:h" opt; do
  case $opt in
    n) events=$OPTARG ;;
    g) gen=$OPTARG ;;
    r) runs=$OPTARG ;;
    t) tail_s=$OPTARG ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done
HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
base=${BENCH_PORT_BASE:-25160}
syslog_port=$base http_port=$((base + 1)) driver_port=$((base + 2))

if [ ! -f "$gen/meta.json" ] || [ "$(jq .count "$gen/meta.json")" != "$events" ]; then
  echo "generating $events events into $gen" >&2
  python3 "$here/gen_events.py" -n "$events" -o "$gen"
fi

work=$(mktemp -d /tmp/hark-bench-ui.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
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
EOF
"$HARK_BIN" serve --config "$work/hark.toml" >"$work/stdout" 2>"$work/stderr" &
pids+=($!)
for _ in $(seq 1 300); do
  grep -q '^ready' "$work/stdout" 2>/dev/null && break
  sleep 0.05
done
token=$(awk '/^admin token:/ {print $3}' "$work/stdout")
url=http://127.0.0.1:$http_port
printf 'bench-password-1\n' | "$HARK_BIN" user add bench --role admin --config "$work/hark.toml" >/dev/null

echo "loading $events events" >&2
python3 "$here/load_ndjson.py" "$gen/events.ndjson" --url "$url" --token "$token" >/dev/null
t_loaded=$(date +%s.%N)
python3 "$here/wait_kept.py" hark "$url" "$token" "$events" "$t_loaded" --timeout 1800 >/dev/null

chromedriver --port="$driver_port" --allowed-ips=127.0.0.1 >"$work/driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$driver_port/status" >/dev/null && break
  sleep 0.1
done

echo "measuring (uptime load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
node "$here/ui_bench.mjs" --driver "http://127.0.0.1:$driver_port" --url "$url" \
  --user bench --password bench-password-1 --runs "$runs" --tail-seconds "$tail_s" \
  >"$work/result.json" 2>"$work/node.err" &
node_pid=$!
if [ "$tail_s" -gt 0 ]; then
  for _ in $(seq 1 3000); do
    grep -q READY-FOR-TAIL "$work/node.err" 2>/dev/null && break
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.1
  done
  "$HARK_BIN" send --target "127.0.0.1:$syslog_port" --rate 2000 \
    --count $((2000 * tail_s)) --size 200 >/dev/null
fi
wait "$node_pid" || { cat "$work/node.err" >&2; exit 1; }

echo "Events: $events; $(nproc) cores; $(date -u +%Y-%m-%d)"
cat "$work/result.json"
