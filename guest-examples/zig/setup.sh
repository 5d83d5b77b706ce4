#!/usr/bin/env bash
# Installs the Zig guest toolchain: Zig from PyPI's `ziglang` wheel (the
# official Zig release, run as `python3 -m ziglang`). Zig ships its own
# wasm32 linker and wasi-libc, so nothing else is needed. Safe to run again.
set -euo pipefail

ZIG_VERSION=0.17.1
PYTHON=${PYTHON:-python3}

if have=$("$PYTHON" -m ziglang version 2>/dev/null) && [ "$have" = "$ZIG_VERSION" ]; then
  echo "Zig $ZIG_VERSION already installed (python3 -m ziglang)" >&2
  exit 0
fi

if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  # A fresh Debian machine has python3 but no pip.
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends python3-pip
fi

# Debian's python3 is "externally managed" (PEP 668): allow the install there.
"$PYTHON" -m pip install --quiet --break-system-packages "ziglang==$ZIG_VERSION" 2>/dev/null ||
  "$PYTHON" -m pip install --quiet "ziglang==$ZIG_VERSION"
"$PYTHON" -m ziglang version
