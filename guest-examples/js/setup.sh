#!/usr/bin/env bash
# Installs the JavaScript guest toolchain (idempotent): the exact versions in
# package-lock.json, i.e. @bytecodealliance/componentize-js 0.23.0 (the
# StarlingMonkey/SpiderMonkey engine, wizer), preview2-shim 0.25.0 and
# typescript 7.0.2 (tsc compiles @weft/workflow and the guests).
# Needs Node >= 20 and npm.
set -euo pipefail
cd "$(dirname "$0")"

if [ -x node_modules/.bin/componentize-js ] &&
  [ "$(node_modules/.bin/componentize-js --version)" = "0.23.0" ] &&
  [ -x node_modules/.bin/tsc ] &&
  [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "componentize-js $(node_modules/.bin/componentize-js --version) already installed"
  exit 0
fi
npm ci --no-audit --no-fund
node_modules/.bin/componentize-js --version
node_modules/.bin/tsc --version
