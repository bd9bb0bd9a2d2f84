#!/usr/bin/env bash
# Re-fetches the web UI's third-party files from the npm registry with
# `npm pack` and checks them against the SHA-256 sums recorded in
# crates/hark-server/ui/vendor/README.md.
#
#   scripts/vendor-ui.sh          fetch, check, and copy into ui/vendor/
#   scripts/vendor-ui.sh --check  fetch and check only; change nothing
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vendor="$root/crates/hark-server/ui/vendor"
check_only=false
[[ "${1:-}" == "--check" ]] && check_only=true

# package@version | file inside the tarball | name in ui/vendor | SHA-256
files=(
  "htmx.org@2.0.11|package/dist/htmx.min.js|htmx.min.js|HTMX_MIN_JS"
  "htmx.org@2.0.11|package/LICENSE|htmx.LICENSE|HTMX_LICENSE"
  "uplot@1.6.32|package/dist/uPlot.esm.js|uPlot.esm.js|UPLOT_ESM_JS"
  "uplot@1.6.32|package/dist/uPlot.min.css|uPlot.min.css|UPLOT_MIN_CSS"
  "uplot@1.6.32|package/LICENSE|uPlot.LICENSE|UPLOT_LICENSE"
)

# The expected sums, one `name sum` a line, read from the README's table.
expected_sum() {
  awk -F'|' -v name="$1" '
    { gsub(/[ `]/, "", $2); gsub(/[ `]/, "", $6) }
    $2 == name { print $6; exit }
  ' "$vendor/README.md"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A unpacked
status=0
for entry in "${files[@]}"; do
  IFS='|' read -r spec inner name _ <<<"$entry"
  if [[ -z "${unpacked[$spec]:-}" ]]; then
    dir="$work/${spec//[@\/]/_}"
    mkdir -p "$dir"
    tarball=$(cd "$dir" && npm pack --silent "$spec")
    tar -xzf "$dir/$tarball" -C "$dir"
    unpacked[$spec]="$dir"
  fi
  src="${unpacked[$spec]}/$inner"
  want=$(expected_sum "$name")
  got=$(sha256sum "$src" | cut -d' ' -f1)
  if [[ -z "$want" ]]; then
    echo "no SHA-256 for $name in $vendor/README.md" >&2
    status=1
  elif [[ "$got" != "$want" ]]; then
    echo "SHA-256 mismatch for $name ($spec $inner): got $got, want $want" >&2
    status=1
  else
    echo "ok  $name  $got"
    $check_only || cp "$src" "$vendor/$name"
  fi
done
exit "$status"
