# Sourced by guest-examples/{c,zig}/build.sh with the script's arguments:
# checks for OUT_DIR and sets what every C-ABI guest build uses: `here` (the
# language folder), `root` (the repo), `out` (OUT_DIR), `work` (its scratch
# dir under target/guest-build) and `xtask` (bindings and componentizing).

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
work="$root/target/guest-build/$(basename "$here")"
mkdir -p "$work"

# `cargo xtask guests` passes its own binary; run by hand, go through cargo.
xtask() {
  if [ -n "${WEFT_XTASK:-}" ]; then
    "$WEFT_XTASK" "$@"
  else
    (cd "$root" && cargo xtask "$@")
  fi
}
