#!/usr/bin/env bash
# Monitor restart benchmark: how long `hark serve` with many monitors takes to
# start and to stop, with their states saved in the data directory.
#
#   bench/monitor_restart.sh [-n MONITORS] [-i INTERVAL_S] [-w WARMUP_S] [-r RUNS]
#
# MONITORS `tcp` monitors (default 10 000) connect every INTERVAL_S seconds
# (default 5) to Hark's own HTTP port, so every monitor has a state and a
# history after WARMUP_S seconds (default 10) without any other target.
# Each run, in a fresh data directory:
#
#   1. cold start: `hark serve` until it prints `ready` (no saved states);
#   2. WARMUP_S seconds of checks;
#   3. stop: SIGTERM until the process has exited (it saves every state);
#   4. warm start: `hark serve` again until `ready` (it loads them all);
#   5. WARMUP_S seconds of checks again;
#   6. stop again (it saves what changed since the start).
#
# Prints one markdown row per run (milliseconds) and the medians.
#
# Environment: HARK_BIN (default target/release/hark), BENCH_PORT_BASE
# (default 25400; uses that one port).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
monitors=10000
interval=5
warmup=10
runs=3
while getopts "n:i:w:r:h" opt; do
  case $opt in
    n) monitors=$OPTARG ;;
    i) interval=$OPTARG ;;
    w) warmup=$OPTARG ;;
    r) runs=$OPTARG ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
  esac
done

HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
port=${BENCH_PORT_BASE:-25400}
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "port $port is taken; set BENCH_PORT_BASE" >&2
  exit 1
fi

work=$(mktemp -d /tmp/hark-bench-restart.XXXXXX)
pid=""
ms=0
cleanup() {
  [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Writes the configuration: an empty [inputs] table (only the API listens).
write_config() {
  local cfg=$1 data=$2
  {
    printf 'data_dir = "%s"\n\n[http]\nlisten = "127.0.0.1:%s"\n\n[inputs]\n\n' "$data" "$port"
    for i in $(seq 0 $((monitors - 1))); do
      printf '[monitors.tcp-%06d]\ntype = "tcp"\nhost = "127.0.0.1"\nport = %s\ninterval = "%ss"\ntimeout = "2s"\n\n' \
        "$i" "$port" "$interval"
    done
  } >"$cfg"
}

# Starts hark; sets pid, and ms to the milliseconds until it printed `ready`.
start() {
  local dir=$1 t0
  t0=$(now_ms)
  "$HARK_BIN" serve --config "$dir/hark.toml" >"$dir/stdout" 2>>"$dir/stderr" &
  pid=$!
  until grep -q '^ready' "$dir/stdout" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$dir/stderr" >&2; return 1; }
    sleep 0.01
  done
  ms=$(($(now_ms) - t0))
}

# Stops hark with SIGTERM; sets ms to the milliseconds until it exited.
stop() {
  local t0 status=0
  t0=$(now_ms)
  kill -TERM "$pid"
  wait "$pid" || status=$?
  pid=""
  [ "$status" -eq 0 ] || { echo "hark exited with $status" >&2; return 1; }
  ms=$(($(now_ms) - t0))
}

echo "| run | cold start ms | stop ms (saves $monitors states) | warm start ms (loads them) | stop ms | saved files | saved KiB |"
echo "|---|---|---|---|---|---|---|"
rows=()
for run in $(seq 1 "$runs"); do
  dir=$work/run-$run
  mkdir -p "$dir"
  write_config "$dir/hark.toml" "$dir/data"
  start "$dir"; cold=$ms
  sleep "$warmup"
  stop; stop1=$ms
  files=$(find "$dir/data/monitors" -type f | wc -l)
  kib=$(du -sk "$dir/data/monitors" | cut -f1)
  start "$dir"; warm=$ms
  sleep "$warmup"
  stop; stop2=$ms
  row="$cold $stop1 $warm $stop2 $files $kib"
  rows+=("$row")
  echo "| $run | ${row// / | } |"
  rm -rf "$dir"
done

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
med=()
for col in 1 2 3 4; do
  med+=("$(printf '%s\n' "${rows[@]}" | cut -d' ' -f"$col" | median)")
done
echo "| median | ${med[0]} | ${med[1]} | ${med[2]} | ${med[3]} | | |"
echo "warm start + stop: $((med[2] + med[3])) ms (median)"
