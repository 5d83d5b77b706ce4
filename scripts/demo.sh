#!/usr/bin/env bash
# Sets everything up and runs the demo: weft (with a Temporal dev server if
# none answers) runs the OrderWorkflow of examples/ and prints its result;
# then a second host with no modules gets them uploaded (`weft deploy`) and
# runs the same workflow.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
log=target/demo-weft.log
printf '\n== %s\n' "weft dev --config examples/mixed.toml (log: $log)" >&2
./target/debug/weft dev --config examples/mixed.toml >"$log" 2>&1 &
weft_pid=$!
trap 'kill -TERM $weft_pid 2>/dev/null; wait $weft_pid 2>/dev/null || true' EXIT

# Wait (at most 90 s) until the weft process $2 logs to $1 that it serves.
wait_serving() {
  for _ in $(seq 1 900); do
    grep -q "weft is serving" "$1" && return 0
    if ! kill -0 "$2" 2>/dev/null; then cat "$1" >&2; echo "weft exited" >&2; exit 1; fi
    sleep 0.1
  done
  cat "$1" >&2; echo "weft did not start" >&2; exit 1
}
wait_serving "$log" "$weft_pid"
grep -o "Temporal Web UI: .*" "$log" || true

workflow_id="order-42-$(date +%s)"
printf '\n== %s\n' "temporal workflow execute --type OrderWorkflow --task-queue ORDER_WORKFLOW_Q --input '\"order-42\"'" >&2
temporal workflow execute --type OrderWorkflow --task-queue ORDER_WORKFLOW_Q \
  --workflow-id "$workflow_id" --input '"order-42"' --address "$TEMPORAL_ADDRESS"
printf '\nThe order file the activities wrote: %s\n' "$(ls examples/var/orders/order-42.json)"

# Part 2: upload the same modules to a running host that has none, and run
# the workflow there (docs/modules.md).
sidecar_log=target/demo-sidecar.log
printf '\n== %s\n' "weft serve --config examples/sidecar.toml (no modules yet; log: $sidecar_log)" >&2
./target/debug/weft serve --config examples/sidecar.toml >"$sidecar_log" 2>&1 &
sidecar_pid=$!
trap 'kill -TERM $sidecar_pid $weft_pid 2>/dev/null; wait $sidecar_pid $weft_pid 2>/dev/null || true' EXIT
wait_serving "$sidecar_log" "$sidecar_pid"

printf '\n== %s\n' "weft deploy target/wasm/order_workflow.wasm --name order" >&2
./target/debug/weft deploy target/wasm/order_workflow.wasm --name order \
  --config examples/sidecar.toml
printf '\n== %s\n' "weft deploy target/wasm/order_activities.wasm --name order-activities --grants examples/order-grants.toml" >&2
./target/debug/weft deploy target/wasm/order_activities.wasm --name order-activities \
  --grants examples/order-grants.toml --config examples/sidecar.toml

workflow_id="order-43-$(date +%s)"
printf '\n== %s\n' "temporal workflow execute --type OrderWorkflow --task-queue UPLOAD_WORKFLOW_Q --input '\"order-43\"' --input '\"UPLOAD_ACTIVITY_Q\"'" >&2
temporal workflow execute --type OrderWorkflow --task-queue UPLOAD_WORKFLOW_Q \
  --workflow-id "$workflow_id" --input '"order-43"' --input '"UPLOAD_ACTIVITY_Q"' \
  --address "$TEMPORAL_ADDRESS"

printf '\n== %s\n' "weft modules" >&2
./target/debug/weft modules --config examples/sidecar.toml
