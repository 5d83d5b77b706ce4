#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: formatting, lints, the
# SDKs' own tests, then the two tiers of cargo tests:
# - the unit tier, plain `cargo test` (every workspace member but weft-e2e):
#   no server, guests built from source by tests/artifacts' build script,
#   recorded histories replayed in process;
# - the end-to-end tier, package weft-e2e (tests/e2e): real weft processes
#   against a real Temporal dev server, every guest from `cargo xtask
#   guests`, once with the sticky cache and once without.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The cargo commands below select the whole workspace, as setup's build
# does: the same package selection means the same feature resolution, so the
# dependency graph compiles once, not once per command. The unit tier leaves
# out weft-e2e, so its dependencies must turn on no feature the rest lacks
# (`cargo tree -e features` with and without `--workspace` must agree), or
# each tier compiles Temporal's crates again.
printf '\n== %s\n' "cargo fmt --check" >&2
cargo fmt --all --check
printf '\n== %s\n' "cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
printf '\n== %s\n' "benchmark scripts parse (CI builds the benchmark, it does not time it)" >&2
bash -n scripts/bench.sh
bash -n bench/parked.sh
bash -n bench/common.sh
python3 -m py_compile bench/parked.py
bash -n bench/side.sh
bash -n bench/replay.sh
python3 -m py_compile bench/side.py bench/side_report.py bench/py-worker/worker.py bench/replay.py
node --check bench/ts-worker/worker.js
node --check bench/ts-worker/workflows.js
node --check bench/ts-worker/activities.js
node --check tests/sdk-compat/ts/compat.js
printf '\n== %s\n' "C guest SDK: JSON reader and writer, workflow runtime (native)" >&2
./guest-examples/c/test.sh
printf '\n== %s\n' "Python guest SDK: workflow runtime on a fake host (native CPython)" >&2
./guest-examples/python/tests/run.sh
printf '\n== %s\n' "TypeScript guest SDK: workflow runtime on a fake host (Node)" >&2
./guest-examples/js/tests/run.sh
printf '\n== %s\n' "unit tier: cargo test (no server; guests built by tests/artifacts)" >&2
cargo test
printf '\n== %s\n' "end-to-end tier: package weft-e2e (a real Temporal dev server)" >&2
# The suite runs weft's binary, which its own package cannot ask cargo for.
cargo build --workspace
cargo test --workspace --test e2e
printf '\n== %s\n' "Kubernetes manifests, and weft check of their configs" >&2
./deploy/validate-k8s.sh --weft "${CARGO_TARGET_DIR:-target}/debug/weft"
printf '\n== %s\n' "container image (podman build, then weft from the exported filesystem)" >&2
./deploy/smoke-image.sh --binary "${CARGO_TARGET_DIR:-target}/debug/weft"
printf '\n== %s\n' "end-to-end tier again, without the sticky cache (every task replays history)" >&2
WEFT_E2E_MAX_CACHED=0 cargo test --workspace --test e2e
