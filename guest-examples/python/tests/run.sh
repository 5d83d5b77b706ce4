#!/usr/bin/env bash
# Unit tests of weft_sdk's workflow runtime on the build machine's CPython,
# against componentize-py's generated bindings and a fake host.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BINDINGS="$(mktemp -d "${TMPDIR:-/tmp}/weft-python-bindings.XXXXXX")"
trap 'rm -rf "$BINDINGS"' EXIT
componentize-py -d "$HERE/../../../wit" -w activation-workflow bindings "$BINDINGS" >/dev/null
# compat/ (the `temporalio` alias) and the sdk-compat samples: the samples
# import `temporalio` and get weft_sdk, ahead of any installed temporalio.
PYTHONPATH="$BINDINGS:$HERE/..:$HERE/../compat:$HERE/../../../tests/sdk-compat/python:$HERE" PYTHONDONTWRITEBYTECODE=1 \
  python3 -m unittest -v test_workflow_sdk test_temporalio_compat "$@"
