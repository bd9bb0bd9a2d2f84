#!/usr/bin/env bash
# Monitoring benchmark: Hark's active checks and Prometheus' blackbox_exporter
# probing the same local targets at the same fixed rate, in turn, in one run.
#
#   bench/monitoring.sh [-n MONITORS] [-i INTERVAL_S] [-c CONCURRENCY] [-w WARMUP_S]
#                       [-d SECONDS] [-r RUNS] [-p PORTS] [-o RESULTS.jsonl] [TOOL ...]
#
# TOOL is hark or blackbox (default: both, in turn, RUNS times).
# Targets: one nginx (Debian package, 2 worker processes, access log off)
# serving a 582-byte page on PORTS HTTP ports and accepting connections on
# PORTS more ports for the TCP checks, all on 127.0.0.1. MONITORS monitors
# (default 10 000), half HTTP GET, half TCP connect, every INTERVAL_S seconds
# (default 5: 120 000 checks a minute), spread round-robin over the ports.
#
# - hark: `hark serve` with the monitors and `[monitoring] concurrency`
#   (default 256); figures from its /metrics.
# - blackbox: blackbox_exporter with modules http_2xx and tcp_connect, driven
#   by Prometheus scraping one /probe target per monitor at the same interval
#   (the usual deployment); figures from what Prometheus stored.
#
# Each run: start, WARMUP_S seconds (default 30), then a measured window of
# SECONDS (default 60); see bench/monitor_metrics.py for how each figure is
# taken. Prints one markdown row per tool and run, then the medians.
#
# Environment: HARK_BIN (default target/release/hark), NGINX (nginx),
# BLACKBOX (prometheus-blackbox-exporter), PROMETHEUS (prometheus),
# BENCH_PORT_BASE (default 25300; uses base .. base+2×PORTS+3).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
monitors=10000
interval=5
concurrency=256
warmup=30
duration=60
runs=1
nports=4
results=""
while getopts "n:i:c:w:d:r:p:o:h" opt; do
  case $opt in
    n) monitors=$OPTARG ;;
    i) interval=$OPTARG ;;
    c) concurrency=$OPTARG ;;
    w) warmup=$OPTARG ;;
    d) duration=$OPTARG ;;
    r) runs=$OPTARG ;;
    p) nports=$OPTARG ;;
    o) results=$OPTARG ;;
    *) sed -n '2,27p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(hark blackbox)

HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
NGINX=${NGINX:-nginx}
BLACKBOX=${BLACKBOX:-prometheus-blackbox-exporter}
PROMETHEUS=${PROMETHEUS:-prometheus}
base=${BENCH_PORT_BASE:-25300}
http_ports=$(seq -s, "$base" $((base + nports - 1)))
tcp_ports=$(seq -s, $((base + nports)) $((base + 2 * nports - 1)))
status_port=$((base + 2 * nports))
hark_http=$((base + 2 * nports + 1))
bb_port=$((base + 2 * nports + 2))
prom_port=$((base + 2 * nports + 3))

work=$(mktemp -d /tmp/hark-bench-monitoring.XXXXXX)
chmod 755 "$work" # nginx's workers run as nobody and read the page from here
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

for p in $(seq "$base" "$prom_port"); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is taken; set BENCH_PORT_BASE" >&2
    exit 1
  fi
done

# Stops one process started here (TERM, then KILL after 60 s) and says how long it took.
stop() {
  local p=$1 name=$2 t0=$SECONDS
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then
    echo "  $name did not stop within 60 s of SIGTERM; killed" >&2
    kill -KILL "$p" 2>/dev/null || true
  else
    echo "  $name stopped $((SECONDS - t0)) s after SIGTERM" >&2
  fi
  wait "$p" 2>/dev/null || true
  local kept=()
  for q in "${pids[@]}"; do [ "$q" = "$p" ] || kept+=("$q"); done
  pids=("${kept[@]}")
}

python3 "$here/gen_monitors.py" "$work" --monitors "$monitors" --interval "$interval" \
  --concurrency "$concurrency" --http-ports "$http_ports" --tcp-ports "$tcp_ports" \
  --status-port "$status_port" --hark-http "$hark_http" --blackbox "$bb_port" \
  --prometheus "$prom_port"

"$NGINX" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx.stderr" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_port "$status_port" 600

measure() {
  local tool=$1 run=$2 url=$3 pid=$4 driver=${5:-}
  python3 "$here/monitor_metrics.py" measure "$tool" --url "$url" --pid "$pid" \
    ${driver:+--driver-pid "$driver"} --nginx-status "http://127.0.0.1:$status_port/" \
    --nginx-pid "$nginx_pid" --duration "$duration" --interval "$interval" \
    --monitors "$monitors" --run "$run" >>"$results"
  tail -1 "$results" | jq -c '{tool, run, per_min, ok, lateness_p50, lateness_p99, cpu_pct, rss_mib, nginx}' >&2
}

run_hark() {
  local run=$1 dir=$work/hark-$1
  mkdir -p "$dir"
  sed "s|$work/hark-data|$dir/data|" "$work/hark.toml" >"$dir/hark.toml"
  "$HARK_BIN" serve --config "$dir/hark.toml" >"$dir/stdout" 2>"$dir/stderr" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 1200); do
    grep -q '^ready' "$dir/stdout" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/stderr" >&2; return 1; }
    sleep 0.05
  done
  echo "[hark run $run] $monitors monitors every ${interval}s, warm-up ${warmup}s," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  sleep "$warmup"
  measure hark "$run" "http://127.0.0.1:$hark_http" "$pid"
  stop "$pid" hark
  rm -rf "$dir"
}

run_blackbox() {
  local run=$1 dir=$work/blackbox-$1
  mkdir -p "$dir"
  "$BLACKBOX" --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$bb_port" \
    --log.level=warn >"$dir/blackbox.log" 2>&1 &
  local bb=$!
  pids+=("$bb")
  wait_port "$bb_port" 600
  "$PROMETHEUS" --config.file="$work/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$dir/prometheus.log" 2>&1 &
  local prom=$!
  pids+=("$prom")
  wait_port "$prom_port" 600
  echo "[blackbox run $run] $monitors targets every ${interval}s, warm-up ${warmup}s," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  sleep "$warmup"
  measure blackbox "$run" "http://127.0.0.1:$prom_port" "$bb" "$prom"
  stop "$prom" prometheus
  stop "$bb" blackbox_exporter
  rm -rf "$dir"
}

for run in $(seq 1 "$runs"); do
  for t in "${tools[@]}"; do
    case $t in
      hark) run_hark "$run" ;;
      blackbox) run_blackbox "$run" ;;
      *) echo "unknown tool $t" >&2; exit 2 ;;
    esac
  done
done

python3 "$here/monitor_metrics.py" table "$results"
