#!/usr/bin/env bash
# Installs the C guest toolchain: clang + wasm-ld targeting wasm32, wasi-libc
# (malloc/memcpy/stdio for wasm32-wasi) and compiler-rt builtins for wasm32.
# Debian bookworm packages; safe to run again (installs only what is missing).
# Run as root (or with sudo available).
set -euo pipefail

packages=(clang lld wasi-libc libclang-rt-dev-wasm32)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "C guest toolchain already installed: ${packages[*]}" >&2
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
