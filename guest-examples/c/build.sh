#!/usr/bin/env bash
# Builds the C OrderWorkflow and order activities from source:
#   OUT_DIR/order_workflow_c.wasm     (world weft:plugin/activation-workflow)
#   OUT_DIR/order_activities_c.wasm   (world weft:plugin/activity)
#
# usage: guest-examples/c/build.sh OUT_DIR
#
# Needs clang, wasm-ld, wasi-libc and compiler-rt for wasm32 (./setup.sh),
# and cargo for the repo's xtask (bindings and componentizing).
set -euo pipefail

source "$(dirname "$0")/../build-lib.sh" "$@"

CC=${CC:-clang}

# Both modules build for wasm32-wasi against wasi-libc, as reactors (no
# `main`; the host calls the exports). The workflow uses wasi-libc only for
# malloc and string functions, which import nothing: `componentize` checks
# that the component imports only weft:plugin/*. The activity uses stdio and
# getenv, so its module imports wasi_snapshot_preview1, which `componentize`
# adapts to WASI p2.
CFLAGS=(--target=wasm32-wasi -Os -std=c11)
WARNINGS=(-Wall -Wextra -Werror -Wno-unused-parameter)
# Link as a reactor; keep no debug info or names (smaller components).
LDFLAGS=(-mexec-model=reactor -Wl,--strip-debug)

build() { # build WORLD SOURCE OUTPUT
  local world=$1 source=$2 output=$3
  # wit-bindgen names its files after the world, with `_` for `-`.
  local stem=${world//-/_} gen="$work/$world"
  # Bindings are generated at build time from wit/, never checked in.
  xtask bindgen-c --world "$world" --out "$gen"
  # The generated .c is compiled apart, without our warnings (not our code).
  "$CC" "${CFLAGS[@]}" -c "$gen/$stem.c" -o "$gen/$stem.o"
  # `*_component_type.o` carries the world's type in a custom section, which
  # `componentize` reads to build the component.
  "$CC" "${CFLAGS[@]}" "${WARNINGS[@]}" -I "$gen" -I "$here" \
    "$here/$source" "$gen/$stem.o" "$gen/${stem}_component_type.o" \
    "${LDFLAGS[@]}" -o "$work/${output%.wasm}.core.wasm"
  xtask componentize --kind "$world" "$work/${output%.wasm}.core.wasm" "$out/$output"
}

build activation-workflow order_workflow.c order_workflow_c.wasm
build activity order_activities.c order_activities_c.wasm
