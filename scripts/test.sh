#!/usr/bin/env bash
# The project's test command: formatting, lints, the release build the
# end-to-end tests drive, and every test of the workspace.
#
# Run from anywhere inside the repository; ../shared (the shared test corpora)
# is expected beside the repository root.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

section() { printf '\n======== %s ========\n' "$*"; }

# One toolchain for every step, whatever rustup's default is meanwhile.
export RUSTUP_TOOLCHAIN="${RUSTUP_TOOLCHAIN:-stable}"

section "test dependencies"
bash scripts/install-test-deps.sh

section "cargo fmt --check"
cargo fmt --all -- --check

section "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

section "cargo build --release -p hark"
cargo build --release -p hark

section "cargo test --release --workspace"
# The end-to-end tests run target/release/hark built just above.
export HARK_BIN="${CARGO_TARGET_DIR:-$root/target}/release/hark"
cargo test --release --workspace

section "done"
