#!/usr/bin/env bash
# Run every fuzz target (host/tests/fuzz.rs: property tests standing in for
# cargo-fuzz, which needs nightly and sanitizer builds of wasmtime and
# Temporal core) for a bounded time each.
#
#   scripts/fuzz.sh                 # 60 s per target
#   scripts/fuzz.sh --seconds 600   # longer
#   scripts/fuzz.sh --seconds 30 grant   # only tests whose name has "grant"
#
# The mutation targets start from the OrderWorkflow component and the admin
# target uploads the hostile_limits components, which the build of
# weft-test-guests (tests/artifacts) makes from source. A failure prints the
# shrunk input; turn it into a regression test beside the code it broke.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
filter=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) filter="$1"; shift ;;
    esac
done

export CARGO_INCREMENTAL=0
cargo test -p weft --test fuzz --no-run
targets=$(cargo test -p weft --test fuzz -- --list 2>/dev/null | sed -n 's/: test$//p' | grep -e "$filter" || true)
if [[ -z "$targets" ]]; then
    echo "no fuzz target matches '$filter'" >&2
    exit 1
fi
failed=0
for target in $targets; do
    echo "== $target (${seconds}s)"
    if ! WEFT_FUZZ_SECONDS="$seconds" cargo test -q -p weft --test fuzz -- --exact "$target" --nocapture; then
        failed=$((failed + 1))
    fi
done
total=$(echo "$targets" | wc -l)
echo "$((total - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
