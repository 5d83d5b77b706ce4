#!/usr/bin/env bash
# Builds the Zig OrderWorkflow and order activities from source:
#   OUT_DIR/order_workflow_zig.wasm     (world weft:plugin/workflow)
#   OUT_DIR/order_activities_zig.wasm   (world weft:plugin/activity)
#
# usage: guest-examples/zig/build.sh OUT_DIR
#
# Needs Zig (./setup.sh: `python3 -m ziglang`, or set ZIG) and cargo for the
# repo's xtask (bindings and componentizing).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
work="$root/target/guest-build/zig"
mkdir -p "$work"

if [ -n "${ZIG:-}" ]; then
  read -r -a zig <<<"$ZIG"
else
  zig=(python3 -m ziglang)
fi
# Zig's caches (translate-c and wasi-libc are compiled once, then reused).
export ZIG_LOCAL_CACHE_DIR="$work/cache"

# `cargo xtask guests` passes its own binary; run by hand, go through cargo.
xtask() {
  if [ -n "${WEFT_XTASK:-}" ]; then
    "$WEFT_XTASK" "$@"
  else
    (cd "$root" && cargo xtask "$@")
  fi
}

# Both modules build for wasm32-wasi with Zig's bundled wasi-libc (the C
# bindings need malloc and free) as reactors (no `main`). The workflow calls
# nothing from WASI: `componentize` checks that its component imports only
# weft:plugin/*. The activity's stdio and getenv import
# wasi_snapshot_preview1, which `componentize` adapts to WASI p2.
build() { # build WORLD SOURCE OUTPUT
  local world=$1 source=$2 output=$3
  local gen="$work/$world"
  # C bindings generated at build time from wit/, never checked in ...
  xtask bindgen-c --world "$world" --out "$gen"
  # ... and translated to a Zig module, `bindings`, which weft.zig imports.
  "${zig[@]}" translate-c -target wasm32-wasi -lc "$gen/$world.h" >"$gen/$world.zig"
  # Module flags: the main module (with its imports) comes first, then each
  # imported module. The generated C glue and `*_component_type.o` (the
  # world's type, read by `componentize`) are linked in.
  "${zig[@]}" build-exe -target wasm32-wasi -mexec-model=reactor -O ReleaseSmall -lc \
    -I "$gen" "$gen/$world.c" "$gen/${world}_component_type.o" \
    --dep weft -Mroot="$here/$source" \
    --dep bindings -Mweft="$here/weft.zig" \
    -Mbindings="$gen/$world.zig" \
    --name "${output%.wasm}" -femit-bin="$work/${output%.wasm}.core.wasm"
  xtask componentize --kind "$world" "$work/${output%.wasm}.core.wasm" "$out/$output"
}

build workflow order_workflow.zig order_workflow_zig.wasm
build activity order_activities.zig order_activities_zig.wasm
