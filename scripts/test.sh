#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: formatting, lints, unit
# tests and the end-to-end tests against a real Temporal dev server.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# Every cargo command below selects the whole workspace, as setup's build
# does: the same package selection means the same feature resolution, so
# the dependency graph compiles once, not once per command.
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
printf '\n== %s\n' "cargo test" >&2
cargo test --workspace
printf '\n== %s\n' "Kubernetes manifests, and weft check of their configs" >&2
./deploy/validate-k8s.sh --weft "${CARGO_TARGET_DIR:-target}/debug/weft"
printf '\n== %s\n' "container image (podman build, then weft from the exported filesystem)" >&2
./deploy/smoke-image.sh --binary "${CARGO_TARGET_DIR:-target}/debug/weft"
printf '\n== %s\n' "end-to-end tests again, without the sticky cache (every task replays history)" >&2
WEFT_E2E_MAX_CACHED=0 cargo test --workspace --test e2e
