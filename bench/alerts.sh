#!/usr/bin/env bash
# Alerting benchmark: Hark's ingest (bench/ingest.sh: loggen over TCP, as
# fast as one connection goes) without alert rules and with N log rules
# (bench/gen_rules.py: word, phrase, field and range queries grouped by
# host), interleaved, so the rules' cost shows in rate and CPU per message.
#
#   bench/alerts.sh [-n RULES] [-d SECONDS] [-r RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rules=1000 duration=30 runs=2
while getopts "n:d:r:h" opt; do
  case $opt in
    n) rules=$OPTARG ;;
    d) duration=$OPTARG ;;
    r) runs=$OPTARG ;;
    *) sed -n '2,7p' "$0"; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/hark-bench-alerts.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$here/gen_rules.py" "$rules" >"$work/rules.toml"
for run in $(seq 1 "$runs"); do
  echo "## run $run: no rules" >&2
  IDLE_WAIT=0 "$here/ingest.sh" -d "$duration" -o "$work/plain-$run.jsonl" hark >&2
  echo "## run $run: $rules rules" >&2
  HARK_EXTRA_TOML="$work/rules.toml" IDLE_WAIT=0 \
    "$here/ingest.sh" -d "$duration" -o "$work/rules-$run.jsonl" hark >&2
done
echo "| rules | run | loggen rate msg/s | CPU µs/msg |"
echo "|---|---|---|---|"
for run in $(seq 1 "$runs"); do
  for kind in plain rules; do
    label=0
    [ "$kind" = rules ] && label=$rules
    jq -r --arg l "$label" --arg r "$run" \
      '"| \($l) | \($r) | \(.loggen_rate | floor) | \(.cpu_us_per_msg * 100 | round / 100) |"' \
      "$work/$kind-$run.jsonl"
  done
done
