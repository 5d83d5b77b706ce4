#!/usr/bin/env bash
# Tests the C SDK natively (no Wasm), with the system C compiler:
#   - tests/json_test.c: the JSON reader and writer (weft_json.h), with
#     AddressSanitizer and UBSan when the compiler has their runtimes;
#   - tests/runtime_test.c: weft.h's workflow runtime (the activation world's
#     exports) with wit-bindgen's generated glue and stub host imports,
#     counting every allocation: no run may leak.
# scripts/test.sh runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$root/target/guest-build/c/tests"
mkdir -p "$work"
CC=${CC:-clang}
FLAGS=(-std=c11 -g -Wall -Wextra -Werror -Wno-unused-parameter -I "$here")

SANITIZE=(-fsanitize=address,undefined -fno-sanitize-recover=all)
# Sanitizers need their runtime libraries, which not every install has.
json_flags=("${FLAGS[@]}")
if echo 'int main(void){return 0;}' | "$CC" "${SANITIZE[@]}" -x c - -o "$work/probe" 2>/dev/null; then
  json_flags+=("${SANITIZE[@]}")
fi
"$CC" "${json_flags[@]}" "$here/tests/json_test.c" -o "$work/json_test"
"$work/json_test"

# The runtime test needs the world's C bindings (generated, never checked
# in). The glue is compiled natively, without warnings: it is written for
# wasm32 (import attributes, 32-bit resource handles, which the linker
# routes to the test's table).
if [ -n "${WEFT_XTASK:-}" ]; then
  "$WEFT_XTASK" bindgen-c --world activation-workflow --out "$work/bindings"
else
  (cd "$root" && cargo xtask bindgen-c --world activation-workflow --out "$work/bindings")
fi
"$CC" -std=c11 -g -w -c "$work/bindings/activation_workflow.c" -o "$work/glue.o"
"$CC" "${FLAGS[@]}" -I "$work/bindings" "$here/tests/runtime_test.c" "$work/glue.o" \
  -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free \
  -Wl,--wrap=exports_weft_plugin_activation_guest_run_new \
  -o "$work/runtime_test"
"$work/runtime_test"
