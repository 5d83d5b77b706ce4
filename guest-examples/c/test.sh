#!/usr/bin/env bash
# Tests the C SDK's JSON reader and writer (weft_json.h) natively: compiles
# tests/json_test.c with the system C compiler (with AddressSanitizer and
# UBSan when the compiler has them) and runs it. scripts/test.sh runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$root/target/guest-build/c/tests"
mkdir -p "$work"
CC=${CC:-clang}
FLAGS=(-std=c11 -g -Wall -Wextra -Werror -I "$here")
SANITIZE=(-fsanitize=address,undefined -fno-sanitize-recover=all)
# Sanitizers need their runtime libraries, which not every install has.
if echo 'int main(void){return 0;}' | "$CC" "${SANITIZE[@]}" -x c - -o "$work/probe" 2>/dev/null; then
  FLAGS+=("${SANITIZE[@]}")
fi
"$CC" "${FLAGS[@]}" "$here/tests/json_test.c" -o "$work/json_test"
"$work/json_test"
