#!/usr/bin/env bash
# Parked runs per worker: starts an in-memory Temporal dev server and a weft
# host serving one OrderWorkflow component (and the Rust order activities),
# then bench/parked.py parks runs on a day-long grace timer and prints the
# host's RSS and mapping count per step.
#   bench/parked.sh WEFT_BINARY WORKFLOW_WASM STEPS [MAX_CACHED]
# WEFT_BINARY `native` runs bench/native-worker instead (the same workflow on
# Temporal's Rust SDK, no Wasm; $NATIVE, default its release build), the
# floor weft's per-run figures are measured against (WORKFLOW_WASM unused).
# With PARKED_LABEL set, prints markdown table rows labelled with it.
set -euo pipefail
cd "$(dirname "$0")/.."
weft=$1 workflow=$2 steps=$3 cached=${4:-200000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
source bench/common.sh
tp=$(port) mp=$(port)
# On disk: the in-memory server holds about 1 MiB per open workflow (18.9
# GiB at 20,000 parked runs), more than the host under test.
start_dev_server "$tp" "$work/server.log" "$work/temporal.db"
mkdir -p "$work/orders"
weft_toml "$tp" "$mp" PARKED_Q "$workflow" ORDER_ACTIVITY_Q target/wasm/order_activities.wasm "$cached"
if [ "$weft" = native ]; then
  # The floor: the same workflow on Temporal's Rust SDK and the same core,
  # no Wasm. Its completed workflow tasks are core's task latency count.
  "${NATIVE:-target/release/native-worker}" --address "127.0.0.1:$tp" --workflow-queue PARKED_Q \
    --activity-queue ORDER_ACTIVITY_Q --orders-dir "$work/orders" \
    --max-cached-workflows "$cached" --metrics "127.0.0.1:$mp" >"$work/worker.log" 2>&1 &
  pid=$!
  counter=(--counter temporal_workflow_task_execution_latency_count)
  wait_port "$mp"
else
  RUST_LOG=warn "$weft" serve --config "$work/weft.toml" >"$work/weft.log" 2>&1 &
  pid=$!
  counter=()
  wait_ready "$mp" "$pid"
fi
python3 bench/parked.py --address "127.0.0.1:$tp" --queue PARKED_Q --pid "$pid" "${counter[@]}" \
  --metrics "http://127.0.0.1:$mp/metrics" --steps "$steps" ${PARKED_LABEL:+--markdown "$PARKED_LABEL"}
