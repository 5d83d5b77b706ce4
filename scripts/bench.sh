#!/usr/bin/env bash
# Measures the guest components and writes BENCHMARKS.md: size, the host's
# compile time (no cache) and its load time from the compiled-component
# cache, per language; with PARKED=STEPS (e.g. PARKED=1000,10000) also the
# memory and kernel mappings per parked OrderWorkflow run, for the guest of
# every language (all on the activation world), by bench/parked.sh;
# with SIDE=1 also the side-by-side section (bench/side.sh, release builds:
# weft with the Rust guests, a native Rust worker, the Python and TypeScript
# SDK workers running the same OrderWorkflow; SIDE_ARMS="ARM;ARM..." picks
# the arms, see bench/side.sh); with REPLAY=1 the replay of one ~10,000-event
# history by weft and by the Python SDK's Replayer (bench/replay.sh); with
# ACTIVATION=1 the time of one activation through the Wasm boundary, in
# process (cargo bench -p weft --bench activation, release).
# Run after ./scripts/setup.sh. Uses the host build named by PROFILE (debug
# by default, as the tests run it; PROFILE=release builds and measures the
# release binary).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-debug}
if [ "$PROFILE" = release ]; then cargo build --release -p weft; fi
if [ -n "${SIDE:-}${REPLAY:-}" ]; then cargo build --release -p weft -p native-worker; fi
weft="target/$PROFILE/weft"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Milliseconds the host spent compiling (or loading) the one module of a config.
load_ms() {
  WEFT_CACHE_DIR="$work/cache" "$weft" --log-format json check --config "$work/c.toml" 2>&1 |
    grep -o '"ms":[0-9]*' | head -1 | cut -d: -f2
}

measure() { # kind file
  if [ "$1" = workflow ]; then
    printf '[[worker]]\ntask_queue = "Q"\nworkflows = ["%s"]\n' "$PWD/$2" >"$work/c.toml"
  else
    printf '[[worker]]\ntask_queue = "Q"\n[[worker.activities]]\nmodule = "%s"\n' "$PWD/$2" >"$work/c.toml"
  fi
  rm -rf "$work/cache"
  local cold warm
  cold=$(load_ms)
  warm=$(load_ms)
  printf '| %s | %s | %s KiB | %s ms | %s ms |\n' "$3" "$1" "$(($(stat -c %s "$2") / 1024))" "$cold" "$warm"
}

{
  echo "# Benchmarks"
  echo
  echo "Written by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores,"
  echo "host build: $PROFILE (cranelift's crates optimised, see Cargo.toml)."
  echo
  echo "## Guest components: size, compile, cached load"
  echo
  echo "Compile: \`Component::new\` in the host, no cache. Cached: loading the"
  echo "compiled form from the compiled-component cache (\`WEFT_CACHE_DIR\`)."
  echo
  echo "| language | world | size | compile | cached load |"
  echo "|---|---|---|---|---|"
  for lang in rust c zig python js; do
    suffix=$([ "$lang" = rust ] && echo "" || echo "_$lang")
    measure workflow "target/wasm/order_workflow$suffix.wasm" "$lang"
    measure activity "target/wasm/order_activities$suffix.wasm" "$lang"
  done
  if [ -n "${PARKED:-}" ]; then
    echo
    echo "## Parked runs"
    echo
    echo "OrderWorkflows parked on a day-long grace timer after CreateOrder"
    echo "(\`bench/parked.sh\`, in-memory dev server, activities on the same host):"
    echo "the host's CPU (utime+stime) per new run, its RSS and mapping count (/proc)"
    echo "after each step, and their growth per run over the idle host (whose CPU"
    echo "over 20 s is the first row)."
    echo
    echo "| guest (world) | runs | seconds | worker CPU ms per run | mean activation µs | RSS | KiB per run | mappings | mappings per run |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for arm in "rust (activation):order_workflow" "c (activation):order_workflow_c" "zig (activation):order_workflow_zig" \
      "python (activation):order_workflow_python" "js (activation):order_workflow_js"; do
      PARKED_LABEL="${arm%%:*}" bench/parked.sh "$weft" "target/wasm/${arm#*:}.wasm" "$PARKED"
    done
  fi
  if [ -n "${SIDE:-}" ]; then
    echo
    IFS=';' read -ra arms <<<"${SIDE_ARMS:-}"
    PROFILE=release bench/side.sh "${arms[@]}"
  fi
  if [ -n "${ACTIVATION:-}" ]; then
    echo
    cat <<'MD'
## One activation through the Wasm boundary

`cargo bench -p weft --bench activation` (release, in process, no server):
the Rust OrderWorkflow driven by synthetic activations through the worker's
own `Run::activate` (jobs to WIT, the guest call, its executor and SDK, the
commands back to protobuf, fuel and epoch bookkeeping), 2,000 runs through
their four activations, then 20,000 `status` queries on one parked run; last,
weft's own share of a parked run (RSS growth per run, 10,000 runs, no core).

| activation kind | mean µs (last row: KiB) |
|---|---|
MD
    cargo bench -q -p weft --bench activation 2>/dev/null | tail -n +2 | sed 's/^/| /; s/$/ |/'
  fi
  if [ -n "${REPLAY:-}" ]; then
    echo
    cat <<'MD'
## Replay of a 10,000-event history

One `Counter` run (tests/guests/activation-workflows: thousands of `add` signals,
then `stop`) recorded with weft on a dev server and exported with
`temporal workflow show --output json`, then replayed offline (`bench/replay.sh`,
best of 5): by `weft replay` (release build, the whole process: start, the
component loaded from the compiled-component cache, replay) and by the Python
SDK's `Replayer` running the same Counter written in Python (the replay call alone).

| replayer | events | wall ms | CPU ms |
|---|---|---|---|
MD
    PROFILE=release bench/replay.sh
  fi
} >BENCHMARKS.md
cat BENCHMARKS.md
