#!/usr/bin/env bash
# Side by side: the same OrderWorkflow (guest-examples/ORDER.md, grace_ms = 1)
# and its two activities on several workers, one arm after the other, each on
# a fresh in-memory Temporal dev server, driven by bench/side.py (throughput,
# p50/p99 start-to-result latency, worker CPU per workflow and RSS at each
# in-flight level). Then bench/side_report.py writes the PNG plots under
# bench/side/ and prints the "Side by side" section of BENCHMARKS.md.
#   bench/side.sh [ARM...]
# ARM is one of
#   weft:LABEL:WORKFLOW_WASM:ACTIVITIES_WASM  a weft host serving the two components
#   native                                    bench/native-worker (Rust SDK, no Wasm)
#   python                                    bench/py-worker (temporalio, PyPI)
#   ts                                        bench/ts-worker (@temporalio/worker, npm)
# Default: weft with the Rust guests, native, python, ts. Environment:
#   PROFILE (release)  which weft and native-worker build to run
#   WEFT, NATIVE       their binaries (default target/$PROFILE/{weft,native-worker})
#   LEVELS             IN_FLIGHT:COUNT,... (default 10:300,100:1000,1000:1000)
#   SIDE_OUT           results directory (default bench/side)
#   SIDE_NO_REPORT=1   only measure (results.jsonl), print no section
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
LEVELS=${LEVELS:-10:300,100:1000,1000:1000}
WEFT=${WEFT:-target/$PROFILE/weft}
NATIVE=${NATIVE:-target/$PROFILE/native-worker}
out=${SIDE_OUT:-bench/side}
if [ $# -eq 0 ]; then
  set -- "weft:weft (Rust guest):target/wasm/order_workflow.wasm:target/wasm/order_activities.wasm" \
    native python ts
fi
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
source bench/common.sh

if [ -f bench/ts-worker/package.json ] && [[ " $* " == *" ts "* ]] && [ ! -d bench/ts-worker/node_modules ]; then
  (cd bench/ts-worker && npm ci --no-audit --no-fund --silent)
fi

for arm in "$@"; do
  tp=$(port)
  start_dev_server "$tp" "$work/server.log"
  rm -rf "$work/orders" && mkdir -p "$work/orders"
  common=(--address "127.0.0.1:$tp" --workflow-queue SIDE_Q --activity-queue SIDE_ACT_Q --orders-dir "$work/orders")
  case "$arm" in
    weft:*)
      IFS=: read -r _ label workflow activities <<<"$arm"
      mp=$(port)
      weft_toml "$tp" "$mp" SIDE_Q "$workflow" SIDE_ACT_Q "$activities" 1000
      RUST_LOG=warn "$WEFT" serve --config "$work/weft.toml" >"$work/worker.log" 2>&1 &
      worker=$!
      wait_ready "$mp" "$worker"
      ;;
    native)
      label="native Rust (Rust SDK)"
      "$NATIVE" "${common[@]}" >"$work/worker.log" 2>&1 &
      worker=$!
      ;;
    python)
      label="Python SDK"
      python3 bench/py-worker/worker.py "${common[@]}" >"$work/worker.log" 2>&1 &
      worker=$!
      ;;
    ts)
      label="TypeScript SDK"
      node bench/ts-worker/worker.js "${common[@]}" >"$work/worker.log" 2>&1 &
      worker=$!
      ;;
    *) echo "unknown arm $arm" >&2; exit 2 ;;
  esac
  echo "== $label ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  if ! python3 bench/side.py --address "127.0.0.1:$tp" --queue SIDE_Q --activity-queue SIDE_ACT_Q \
    --pid "$worker" --server-pid "$server" --arm "$label" --levels "$LEVELS" | tee -a "$results" >&2; then
    echo "arm $label failed; its worker's log:" >&2
    tail -30 "$work/worker.log" >&2
    exit 1
  fi
  kill "$worker" "$server" 2>/dev/null || true
  wait "$worker" "$server" 2>/dev/null || true
done

if [ -z "${SIDE_NO_REPORT:-}" ]; then
  python3 -c 'import matplotlib' 2>/dev/null || python3 -m pip install --quiet matplotlib
  python3 bench/side_report.py "$results" --plots "$out"
fi
