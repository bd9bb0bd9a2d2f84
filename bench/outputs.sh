#!/usr/bin/env bash
# Output benchmark: Hark forwarding to rsyslog over TCP (syslog, octet
# counted) and RELP, and what forwarding costs ingest.
#
#   bench/outputs.sh [-n MESSAGES] [-s BYTES] [-r RUNS]
#
# Per run, two cases on 127.0.0.1:
#   none     Hark with a TCP syslog input and no output;
#   outputs  the same Hark with two outputs, syslog over TCP and RELP, to
#            an rsyslogd whose imtcp and imrelp inputs write to files.
# `hark send` writes MESSAGES RFC 5424 messages of BYTES bytes over one TCP
# connection as fast as it goes. Ingest rate: MESSAGES over the time from
# the first byte until hark_events_stored_total reaches MESSAGES (in the
# WAL). Output rate: MESSAGES over the time from the first byte until
# rsyslog's file for that output holds MESSAGES lines.
# Prints one markdown row per case and run.
#
# Environment: HARK_BIN (default target/release/hark), RSYSLOGD (default
# rsyslogd; needs rsyslog-relp), BENCH_PORT_BASE (default 25340; uses
# base..base+3).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
messages=200000
size=200
runs=1
while getopts "n:s:r:h" opt; do
  case $opt in
    n) messages=$OPTARG ;;
    s) size=$OPTARG ;;
    r) runs=$OPTARG ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
  esac
done

HARK_BIN=${HARK_BIN:-$repo/target/release/hark}
RSYSLOGD=${RSYSLOGD:-rsyslogd}
base=${BENCH_PORT_BASE:-25340}
input_port=$base http_port=$((base + 1)) tcp_port=$((base + 2)) relp_port=$((base + 3))

work=$(mktemp -d /tmp/hark-bench-outputs.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
stored() {
  curl -s "http://127.0.0.1:$http_port/metrics" |
    awk '/^hark_events_stored_total/ {s += $NF} END {printf "%d\n", s}'
}
# Waits until command "$@" prints at least $messages; prints the time then.
wait_count() {
  while [ "$("$@")" -lt "$messages" ]; do sleep 0.05; done
  now
}
rate() { awk -v n="$messages" -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", n / (b - a)}'; }

start_rsyslog() {
  local dir=$work/rsyslog
  rm -rf "$dir"
  mkdir -p "$dir/work"
  cat >"$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir/work")
module(load="imtcp")
module(load="imrelp")
template(name="msg" type="string" string="%msg%\n")
ruleset(name="tcp") { action(type="omfile" file="$dir/tcp.log" template="msg") }
ruleset(name="relp") { action(type="omfile" file="$dir/relp.log" template="msg") }
input(type="imtcp" address="127.0.0.1" port="$tcp_port" ruleset="tcp")
input(type="imrelp" address="127.0.0.1" port="$relp_port" ruleset="relp")
CONF
  "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" >"$dir/out" 2>&1 &
  rsyslog_pid=$!
  pids+=("$rsyslog_pid")
  wait_port "$tcp_port"
  wait_port "$relp_port"
}

start_hark() {
  local dir=$work/hark outputs=$1
  rm -rf "$dir"
  mkdir -p "$dir"
  cat >"$dir/hark.toml" <<CONF
data_dir = "$dir/data"
[http]
listen = "127.0.0.1:$http_port"
[inputs.tcp]
type = "syslog"
transport = "tcp"
listen = "127.0.0.1:$input_port"
CONF
  if [ "$outputs" = yes ]; then
    cat >>"$dir/hark.toml" <<CONF
[outputs.tcp]
type = "syslog"
transport = "tcp"
target = "127.0.0.1:$tcp_port"
[outputs.relp]
type = "relp"
target = "127.0.0.1:$relp_port"
CONF
  fi
  "$HARK_BIN" serve --config "$dir/hark.toml" >"$dir/out" 2>&1 &
  hark_pid=$!
  pids+=("$hark_pid")
  wait_port "$http_port"
  wait_port "$input_port"
}

stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}

echo "| case | run | messages | ingest msg/s | tcp output msg/s | relp output msg/s |"
echo "|---|---|---|---|---|---|"
for run in $(seq 1 "$runs"); do
  for case in none outputs; do
    if [ "$case" = outputs ]; then
      start_rsyslog
      start_hark yes
    else
      start_hark no
    fi
    t0=$(now)
    "$HARK_BIN" send --target "127.0.0.1:$input_port" --count "$messages" --size "$size" >/dev/null
    t_ingest=$(wait_count stored)
    tcp_rate=- relp_rate=-
    if [ "$case" = outputs ]; then
      t_tcp=$(wait_count lines "$work/rsyslog/tcp.log")
      t_relp=$(wait_count lines "$work/rsyslog/relp.log")
      tcp_rate=$(rate "$t0" "$t_tcp")
      relp_rate=$(rate "$t0" "$t_relp")
    fi
    echo "| $case | $run | $messages | $(rate "$t0" "$t_ingest") | $tcp_rate | $relp_rate |"
    stop_pid "$hark_pid"
    if [ "$case" = outputs ]; then stop_pid "$rsyslog_pid"; fi
  done
done
