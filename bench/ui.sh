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
runs=15
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
tail_s=20
while getopts "n:g:r:t:h" opt; do
  shared_opt "$opt" "${OPTARG:-}" && continue
  case $opt in
    t) tail_s=$OPTARG ;;
    *) usage ;;
  esac
done
bench_env 25160
ensure_events

work=$(mktemp -d /tmp/hark-bench-ui.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

serve_hark "$work" </dev/null
pids+=("$hark_pid")
printf 'bench-password-1\n' | "$HARK_BIN" user add bench --role admin --config "$work/hark.toml" >/dev/null

echo "loading $events events" >&2
load_events

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
