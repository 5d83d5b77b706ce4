#!/usr/bin/env bash
# Unit tests of @weft/workflow in Node, on a fake host (no component, no
# server): compiles weft/ and tests/workflows.ts with tsc as build.sh does,
# then runs sdk.test.mjs with node's test runner. Toolchain: ../setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build/tsc/guest-examples/js/tests
node_modules/.bin/tsc -p tests/tsconfig.json
node resolve-imports.mjs build/tsc build/tsc/guest-examples/js/weft/workflow.js
node --import ./tests/register.mjs --test tests/sdk.test.mjs
