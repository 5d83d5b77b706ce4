#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: formatting, lints, unit
# tests and the end-to-end tests against a real Temporal dev server.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
printf '\n== %s\n' "cargo fmt --check" >&2
cargo fmt --all --check
printf '\n== %s\n' "cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
printf '\n== %s\n' "cargo test" >&2
cargo test --workspace
