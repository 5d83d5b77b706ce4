#!/usr/bin/env bash
# Installs the Python guest toolchain if missing (idempotent):
# componentize-py 0.25.1 (bundles CPython 3.14 for wasm32-wasip2 and the
# Wasm tooling; the host only needs Python >= 3.8 and pip to install it).
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

installed="$(python3 -m pip show componentize-py 2>/dev/null | sed -n 's/^Version: //p' || true)"
if [ "$installed" = "$COMPONENTIZE_PY_VERSION" ] && command -v componentize-py >/dev/null; then
  echo "componentize-py $COMPONENTIZE_PY_VERSION already installed"
  exit 0
fi
# Debian's python3 is "externally managed" (PEP 668): allow the install there.
python3 -m pip install --quiet --break-system-packages "componentize-py==$COMPONENTIZE_PY_VERSION" 2>/dev/null ||
  python3 -m pip install --quiet "componentize-py==$COMPONENTIZE_PY_VERSION"
componentize-py --version
