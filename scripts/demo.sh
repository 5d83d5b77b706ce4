#!/usr/bin/env bash
# Sets everything up and runs the demo: weft (with a Temporal dev server if
# none answers) runs the OrderWorkflow of examples/ and prints its result.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
log=target/demo-weft.log
printf '\n== %s\n' "weft dev --config examples/mixed.toml (log: $log)" >&2
./target/debug/weft dev --config examples/mixed.toml >"$log" 2>&1 &
weft_pid=$!
trap 'kill -TERM $weft_pid 2>/dev/null; wait $weft_pid 2>/dev/null || true' EXIT

# Wait (at most 90 s) until weft says it is serving.
for _ in $(seq 1 900); do
  grep -q "weft is serving" "$log" && break
  if ! kill -0 "$weft_pid" 2>/dev/null; then cat "$log" >&2; echo "weft exited" >&2; exit 1; fi
  sleep 0.1
done
grep -q "weft is serving" "$log" || { cat "$log" >&2; echo "weft did not start" >&2; exit 1; }
grep -o "Temporal Web UI: .*" "$log" || true

workflow_id="order-42-$(date +%s)"
printf '\n== %s\n' "temporal workflow execute --type OrderWorkflow --task-queue ORDER_WORKFLOW_Q --input '\"order-42\"'" >&2
temporal workflow execute --type OrderWorkflow --task-queue ORDER_WORKFLOW_Q \
  --workflow-id "$workflow_id" --input '"order-42"' --address "$TEMPORAL_ADDRESS"
printf '\nThe order file the activities wrote: %s\n' "$(ls examples/var/orders/order-42.json)"
