#!/usr/bin/env bash
# Builds the Python OrderWorkflow example into two components, and the SDK
# features sample into a third:
#   OUT_DIR/order_workflow_python.wasm    (world weft:plugin/activation-workflow, no WASI)
#   OUT_DIR/sdk_features_python.wasm      (the same world)
#   OUT_DIR/order_activities_python.wasm  (world weft:plugin/activity + WASI p2)
#   OUT_DIR/sdk_compat_python.wasm        (tests/sdk-compat/python's samples, written
#                                          for temporalio, unchanged; activation world)
# Usage: build.sh OUT_DIR   (toolchain: ./setup.sh)
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
HERE="$(cd "$(dirname "$0")" && pwd)"
WIT="$HERE/../../wit"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"

command -v componentize-py >/dev/null || {
  echo "componentize-py not found: run $HERE/setup.sh" >&2
  exit 1
}

# Build from a copy of the sources in a scratch dir: componentize-py imports
# the app inside its Wasm CPython at build time, and that interpreter writes
# __pycache__ next to the modules it imports. (A fresh dir per run also lets
# two builds run at once.)
SRC="$(mktemp -d "${TMPDIR:-/tmp}/weft-python-src.XXXXXX")"
trap 'rm -rf "$SRC"' EXIT
cp -r "$HERE/order_workflow.py" "$HERE/order_activities.py" "$HERE/sdk_features.py" "$HERE/activation_guest.py" \
  "$HERE/weft_sdk" "$SRC/"
cd "$SRC"

# Workflow: --stub-wasi replaces every WASI import with a trapping stub, so
# the component imports nothing but weft:plugin's activation-host (and its
# types). Python's start-up (which does use WASI: clocks, random, the stdlib
# files) runs at build time, when componentize-py pre-initialises the
# interpreter. activation_guest.py is where componentize-py looks for the
# exported `run` resource's class.
componentize-py -d "$WIT" -w activation-workflow componentize --stub-wasi \
  -p "$SRC" order_workflow -o "$OUT/order_workflow_python.wasm"
# The SDK's features beyond the OrderWorkflow (tests/e2e/python_sdk.rs).
componentize-py -d "$WIT" -w activation-workflow componentize --stub-wasi \
  -p "$SRC" sdk_features -o "$OUT/sdk_features_python.wasm"

# The temporalio samples of tests/sdk-compat/python, unchanged: compat/
# holds a `temporalio` package that is weft_sdk under Temporal's module
# names, so their `from temporalio import workflow` needs no edit. Only the
# samples are copied (not compare.py, which drives the official SDK).
COMPAT="$SRC/sdk-compat"
mkdir -p "$COMPAT"
for f in "$HERE"/../../tests/sdk-compat/python/*.py; do
  [ "$(basename "$f")" = compare.py ] || cp "$f" "$COMPAT/"
done
cp -r "$HERE/compat/temporalio" "$COMPAT/"
componentize-py -d "$WIT" -w activation-workflow componentize --stub-wasi \
  -p "$COMPAT" -p "$SRC" weft_guest -o "$OUT/sdk_compat_python.wasm"

# Activities: real WASI (files in the preopened /orders, ORDER_CURRENCY).
componentize-py -d "$WIT" -w activity componentize \
  -p "$SRC" order_activities -o "$OUT/order_activities_python.wasm"

# Bindings for editors and type checkers (not needed by componentize, which
# generates its own): build/bindings/{activation-workflow,activity}/wit_world.
for world in activation-workflow activity; do
  rm -rf "$HERE/build/bindings/$world"
  componentize-py -d "$WIT" -w "$world" bindings "$HERE/build/bindings/$world" >/dev/null
done

ls -l "$OUT/order_workflow_python.wasm" "$OUT/sdk_features_python.wasm" "$OUT/order_activities_python.wasm" \
  "$OUT/sdk_compat_python.wasm"
