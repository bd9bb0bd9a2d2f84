# Shell functions the benchmark scripts share; sourced, not run.

# utime + stime of a process, in clock ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# A /proc/PID/status value in kB (VmRSS, VmHWM).
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# Waits until something accepts TCP on 127.0.0.1:PORT, trying TRIES times
# 50 ms apart (default 200, i.e. 10 s).
wait_port() {
  for _ in $(seq 1 "${2:-200}"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# --- What query.sh and ui.sh share: options, the data, a server, loading ---
# A script sets `here` (this directory) and `runs` (its default) first,
# then sources this file.

repo=$(cd "$here/.." && pwd)
# -n: events to generate when -g holds none; -g: where the generated files
# live (kept between runs, since generating 10M events takes minutes).
events=10000000
gen=/tmp/hark-bench-data

# Prints the script's leading comment (its usage) and exits with 2.
usage() {
  awk 'NR == 1 {next} /^#/ {print; next} {exit}' "$0"
  exit 2
}

# Handles option OPT (as getopts names it) with ARG when it is one of the
# shared ones (-n EVENTS, -g DATA_DIR, -r RUNS); returns 1 for the others.
shared_opt() {
  case $1 in
    n) events=$2 ;;
    g) gen=$2 ;;
    r) runs=$2 ;;
    *) return 1 ;;
  esac
}

# Sets HARK_BIN (default target/release/hark) and the ports from
# BENCH_PORT_BASE (default DEFAULT_BASE): syslog_port = base,
# http_port = base + 1, driver_port = base + 2.
bench_env() {
  HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
  local base=${BENCH_PORT_BASE:-$1}
  syslog_port=$base
  http_port=$((base + 1))
  driver_port=$((base + 2))
}

# Generates $events events into $gen with gen_events.py unless it holds
# that many already; with an argument, that fraction carries ECS fields.
ensure_events() {
  local ecs=${1:-}
  if [ ! -f "$gen/meta.json" ] || [ "$(jq .count "$gen/meta.json")" != "$events" ] \
    || { [ -n "$ecs" ] && [ "$(jq '.ecs.share // 0' "$gen/meta.json")" != "$ecs" ]; }; then
    echo "generating $events events into $gen" >&2
    python3 "$here/gen_events.py" -n "$events" -o "$gen" ${ecs:+--ecs "$ecs"}
  fi
}

# Starts `hark serve` with its data in WORK/data, HTTP on $http_port, a
# syslog TCP input on $syslog_port and the TOML read from stdin appended;
# waits until it is ready. Sets hark_pid, token (the first admin token)
# and url. Exits with the server's errors if it stops before it is ready.
serve_hark() {
  local work=$1
  {
    cat <<TOML
data_dir = "$work/data"

[http]
listen = "127.0.0.1:$http_port"

[inputs.bench]
type = "syslog"
transport = "tcp"
listen = "127.0.0.1:$syslog_port"
TOML
    cat
  } >"$work/hark.toml"
  "$HARK_BIN" serve --config "$work/hark.toml" >"$work/stdout" 2>"$work/stderr" &
  hark_pid=$!
  for _ in $(seq 1 300); do
    grep -q '^ready' "$work/stdout" 2>/dev/null && break
    kill -0 "$hark_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.05
  done
  token=$(awk '/^admin token:/ {print $3}' "$work/stdout")
  url=http://127.0.0.1:$http_port
}

# Loads $gen/events.ndjson through POST /api/v1/ingest and waits until all
# $events are searchable. Sets t0 (start), load (load_ndjson.py's report),
# t_loaded (its end) and kept (wait_kept.py's report).
load_events() {
  t0=$(date +%s.%N)
  load=$(python3 "$here/load_ndjson.py" "$gen/events.ndjson" --url "$url" --token "$token")
  t_loaded=$(date +%s.%N)
  kept=$(python3 "$here/wait_kept.py" hark "$url" "$token" "$events" "$t_loaded" --timeout 1800)
}
