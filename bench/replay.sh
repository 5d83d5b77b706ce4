#!/usr/bin/env bash
# Replay of one long history (about 10,000 events): records it on a fresh
# dev server with weft serving the `Counter` test workflow (thousands of
# `add` signals, then `stop`; bench/replay.py), exports it with
# `temporal workflow show --output json`, then times `weft replay` (the whole
# process, the component loaded from the compiled-component cache) and the
# Python SDK's `Replayer` (the replay call alone) on it: best wall time and
# best CPU time (utime+stime) of REPEAT runs. Prints one markdown table row
# per replayer: | replayer | events | wall ms | CPU ms |.
#   bench/replay.sh [EVENTS]   (REPLAY_KEEP=FILE keeps the history)
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
REPEAT=${REPEAT:-5}
events=${1:-10000}
weft=${WEFT:-target/$PROFILE/weft}
module="$PWD/target/wasm/activation_workflows.wasm"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
source bench/common.sh
tp=$(port) mp=$(port)
start_dev_server "$tp" "$work/server.log"
cat >"$work/weft.toml" <<TOML
[temporal]
address = "127.0.0.1:$tp"
[metrics]
listen = "127.0.0.1:$mp"
[[worker]]
task_queue = "REPLAY_Q"
workflows = ["$module"]
TOML
export WEFT_CACHE_DIR="$work/cache"
RUST_LOG=warn "$weft" serve --config "$work/weft.toml" >"$work/weft.log" 2>&1 &
host=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$mp/readyz" >/dev/null && break; sleep 0.2; done
python3 bench/replay.py record --address "127.0.0.1:$tp" --queue REPLAY_Q --id replay-bench \
  --events "$events" >"$work/recorded.json"
temporal workflow show --address "127.0.0.1:$tp" -w replay-bench --output json >"$work/history.json"
kill "$host" "$server" && wait "$host" "$server" 2>/dev/null || true
[ -z "${REPLAY_KEEP:-}" ] || cp "$work/history.json" "$REPLAY_KEEP"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["events"]))' "$work/history.json")

python3 bench/replay.py weft --weft "$weft" --module "$module" --history "$work/history.json" \
  --repeat "$REPEAT" --label "weft replay (Rust guest; whole process)"
python3 bench/replay.py python --history "$work/history.json" --repeat "$REPEAT" \
  --label "Python SDK Replayer (the replay call)"
