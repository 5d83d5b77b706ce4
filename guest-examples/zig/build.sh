#!/usr/bin/env bash
# Builds the Zig OrderWorkflow and order activities from source:
#   OUT_DIR/order_workflow_zig.wasm     (world weft:plugin/activation-workflow)
#   OUT_DIR/order_activities_zig.wasm   (world weft:plugin/activity)
#
# usage: guest-examples/zig/build.sh OUT_DIR
#
# Needs Zig (./setup.sh: `python3 -m ziglang`, or set ZIG) and cargo for the
# repo's xtask (bindings and componentizing).
set -euo pipefail

source "$(dirname "$0")/../build-lib.sh" "$@"
# The C SDK: weft.h and weft_json.h.
c_sdk="$root/guest-examples/c"

if [ -n "${ZIG:-}" ]; then
  read -r -a zig <<<"$ZIG"
else
  zig=(python3 -m ziglang)
fi
# Zig's caches (translate-c and wasi-libc are compiled once, then reused).
export ZIG_LOCAL_CACHE_DIR="$work/cache"

# Both modules build for wasm32-wasi with Zig's bundled wasi-libc (the C
# bindings need malloc and free) as reactors (no `main`). The workflow calls
# nothing from WASI: `componentize` checks that its component imports only
# weft:plugin/*. The activity's stdio and getenv import
# wasi_snapshot_preview1, which `componentize` adapts to WASI p2.
# Module flags: the main module (with its imports) comes first, then each
# imported module. The generated C glue and `*_component_type.o` (the
# world's type, read by `componentize`) are linked in.
link() { # link GEN STEM SOURCE OUTPUT BINDINGS_ZIG [C_FILE...]
  local gen=$1 stem=$2 source=$3 output=$4 bindings=$5
  shift 5
  "${zig[@]}" build-exe -target wasm32-wasi -mexec-model=reactor -O ReleaseSmall -lc \
    -I "$gen" -I "$c_sdk" "$gen/$stem.c" "$@" "$gen/${stem}_component_type.o" \
    --dep weft -Mroot="$here/$source" \
    --dep bindings -Mweft="$here/weft.zig" \
    -Mbindings="$bindings" \
    --name "${output%.wasm}" -femit-bin="$work/${output%.wasm}.core.wasm"
}

# The workflow runs on the C SDK's runtime (../c/weft.h, compiled by
# weft_sdk.c); weft.zig reads its declarations through weft_zig.h.
build_workflow() { # build_workflow SOURCE OUTPUT
  local source=$1 output=$2 world=activation-workflow stem=activation_workflow
  local gen="$work/$world"
  # C bindings generated at build time from wit/, never checked in ...
  xtask bindgen-c --world "$world" --out "$gen"
  # ... and translated with the SDK's declarations into the module
  # `bindings`, which weft.zig imports.
  "${zig[@]}" translate-c -target wasm32-wasi -lc -I "$gen" -I "$c_sdk" \
    "$here/weft_zig.h" >"$gen/weft_zig.zig"
  link "$gen" "$stem" "$source" "$output" "$gen/weft_zig.zig" "$here/weft_sdk.c"
  xtask componentize --kind "$world" "$work/${output%.wasm}.core.wasm" "$out/$output"
}

build_activity() { # build_activity SOURCE OUTPUT
  local source=$1 output=$2 world=activity
  local gen="$work/$world"
  xtask bindgen-c --world "$world" --out "$gen"
  "${zig[@]}" translate-c -target wasm32-wasi -lc "$gen/$world.h" >"$gen/$world.zig"
  link "$gen" "$world" "$source" "$output" "$gen/$world.zig"
  xtask componentize --kind "$world" "$work/${output%.wasm}.core.wasm" "$out/$output"
}

build_workflow order_workflow.zig order_workflow_zig.wasm
build_activity order_activities.zig order_activities_zig.wasm
