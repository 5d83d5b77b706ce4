#!/usr/bin/env bash
# Builds the JavaScript guests (compiled with tsc first) into four components:
#   OUT_DIR/order_workflow_js.wasm    (world weft:plugin/activation-workflow, no WASI)
#   OUT_DIR/order_activities_js.wasm  (weft activity world + WASI files/env)
#   OUT_DIR/sdk_workflows_js.wasm     (the SDK's e2e workflows, activation world)
#   OUT_DIR/sdk_compat_ts.wasm        (tests/sdk-compat/ts's workflows, activation world)
# Usage: build.sh OUT_DIR   (toolchain: ./setup.sh, i.e. npm ci: tsc, componentize-js)
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
cd "$HERE"

# The componentize-js CLI itself (`jco componentize` 1.35.0 fails here).
COMPONENTIZE="$HERE/node_modules/.bin/componentize-js"
[ -x "$COMPONENTIZE" ] || {
  echo "componentize-js not found: run $HERE/setup.sh" >&2
  exit 1
}

# TypeScript: @weft/workflow (weft/*.ts) and the JavaScript guests compile
# with tsc into a scratch dir under build/ (so that two builds can run at
# once), under their paths from the repository root; so
# do the TypeScript SDK compatibility workflows (tests/sdk-compat/ts, which
# import `@temporalio/workflow`). resolve-imports.mjs then points those
# imports at the compiled SDK (componentize-js resolves only relative ones).
TSC="$HERE/node_modules/.bin/tsc"
[ -x "$TSC" ] || {
  echo "tsc not found: run $HERE/setup.sh" >&2
  exit 1
}
mkdir -p "$HERE/build"
BUILD="$(mktemp -d "$HERE/build/tsc.XXXXXX")"
WIT=""
trap 'rm -rf "$BUILD"; [ -z "$WIT" ] || rm -rf "$WIT"' EXIT
"$TSC" -p "$HERE/tsconfig.json" --outDir "$BUILD"
"$TSC" -p "$HERE/../../tests/sdk-compat/ts/tsconfig.weft.json" --outDir "$BUILD"
SDK_JS="$BUILD/guest-examples/js/weft/workflow.js"
node "$HERE/resolve-imports.mjs" "$BUILD" "$SDK_JS"

# Workflow: the module exports its workflows as async functions (as for the
# TypeScript SDK); the component's entry hands them to the SDK's executor,
# which is the `activation-guest` export. Every optional engine feature off,
# so that StarlingMonkey imports no WASI at all and the component imports
# only weft:plugin/activation-host (no console, clock, entropy or timers:
# the SDK gives log and console through the host, workflow time as Date,
# seeded Math.random and sleep).
ENTRY="$BUILD/entry.js"
workflow_component() { # MODULE (from the repository root, compiled) OUTPUT
  cat >"$ENTRY" <<JS
import * as workflows from './$1';
import { activationGuest as guest } from './guest-examples/js/weft/workflow.js';
export const activationGuest = guest(workflows);
JS
  "$COMPONENTIZE" "$ENTRY" --wit ../../wit --world-name activation-workflow \
    -d stdio -d random -d clocks -d http -d fetch-event \
    -o "$2"
}
workflow_component guest-examples/js/order_workflow.js "$OUT/order_workflow_js.wasm"
# The SDK's own e2e workflows (tests/e2e/js_sdk.rs).
workflow_component guest-examples/js/sdk_workflows.js "$OUT/sdk_workflows_js.wasm"
# The TypeScript SDK compatibility workflows (tests/e2e/sdk_compat_ts.rs).
workflow_component tests/sdk-compat/ts/src/workflows/index.js "$OUT/sdk_compat_ts.wasm"

# Activities: the world in wit/activity-fs.wit adds WASI filesystem and
# environment imports to weft's activity world. Assemble it with its deps in
# a scratch dir (so that two builds can run at once): the weft package, and
# the WASI 0.2.12 WIT that ships in the (locked) jco package.
WASI_WIT="$HERE/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12"
WIT="$(mktemp -d "${TMPDIR:-/tmp}/weft-js-wit.XXXXXX")"
mkdir -p "$WIT/deps"
cp wit/activity-fs.wit "$WIT/"
cp -r ../../wit "$WIT/deps/weft-plugin"
for pkg in cli clocks filesystem io random sockets; do
  cp -r "$WASI_WIT/wasi-$pkg" "$WIT/deps/"
done
# http and fetch-event are off: weft links WASI p2 but not wasi:http.
"$COMPONENTIZE" "$BUILD/guest-examples/js/order_activities.js" --wit "$WIT" --world-name activity-fs \
  -d http -d fetch-event \
  -o "$OUT/order_activities_js.wasm"

ls -l "$OUT/order_workflow_js.wasm" "$OUT/sdk_workflows_js.wasm" "$OUT/sdk_compat_ts.wasm" "$OUT/order_activities_js.wasm"
