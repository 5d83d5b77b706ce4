#!/usr/bin/env bash
# Builds weft's container image from a compiled weft binary.
#
#   deploy/build-image.sh [--binary PATH] [--tag TAG] [--context DIR] [--keep-debug]
#
#   --binary PATH  the weft binary (default: target/release/weft)
#   --tag TAG      the image name (default: localhost/weft:latest)
#   --context DIR  assemble the build context in DIR and keep it (default: a
#                  temporary directory, removed afterwards)
#   --keep-debug   keep the binary's debug info (default: strip it from the
#                  image's copy with `strip --strip-debug`; symbols stay, so
#                  backtraces still name functions)
#
# The image starts FROM scratch (no base image is pulled): this script lays
# out the build context deploy/Containerfile expects — the binary, the shared
# libraries `ldd` lists with the dynamic loader, /etc/passwd and /etc/group
# with the user weft (uid 10001), the CA certificates, an empty /tmp and the
# directories weft owns — and runs `podman build` (or `buildah bud`).
# Needs podman or buildah (Debian: apt-get install podman) and ldd; no root
# (ownership is set in the Containerfile, not on the context's files).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=target/release/weft
tag=localhost/weft:latest
context=""
keep_debug=false
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
    --tag) tag="${2:?--tag needs a name}"; shift 2 ;;
    --context) context="${2:?--context needs a directory}"; shift 2 ;;
    --keep-debug) keep_debug=true; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "build-image.sh: $*" >&2; exit 1; }

[ -f "$binary" ] && [ -x "$binary" ] || fail "no executable weft binary at $binary (build it: cargo build --release -p weft, or pass --binary)"
# No layer cache: the context changes with every binary, and cached stage
# images would only pile up (buildah bud keeps none by default either).
if command -v podman >/dev/null; then
  build=(podman build --layers=false)
elif command -v buildah >/dev/null; then
  build=(buildah bud)
else
  fail "neither podman nor buildah is installed (Debian: apt-get install -y --no-install-recommends podman)"
fi
command -v ldd >/dev/null || fail "ldd is needed to find the binary's shared libraries"

if [ -z "$context" ]; then
  context="$(mktemp -d "${TMPDIR:-/tmp}/weft-image.XXXXXX")"
  trap 'rm -rf "$context"' EXIT
else
  rm -rf "$context"
  mkdir -p "$context"
fi
context="$(cd "$context" && pwd)"
rootfs="$context/rootfs"
owned="$context/owned"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$rootfs/tmp" \
  "$rootfs/var/cache" "$rootfs/var/lib" "$rootfs/run"
chmod 1777 "$rootfs/tmp"

echo "== weft binary: $binary" >&2
if ! $keep_debug && command -v strip >/dev/null; then
  strip --strip-debug -o "$rootfs/usr/local/bin/weft" "$binary"
else
  cp "$binary" "$rootfs/usr/local/bin/weft"
fi
chmod 0755 "$rootfs/usr/local/bin/weft"

# The loader and every library the binary links, at the same paths, so the
# loader's default search finds them. Lines look like
#   libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)
#   /lib64/ld-linux-x86-64.so.2 (0x...)
#   linux-vdso.so.1 (0x...)                 (in the kernel: nothing to copy)
# A static binary ("not a dynamic executable") needs none.
echo "== shared libraries (ldd)" >&2
ldd_out="$(ldd "$binary" 2>&1)" || true
if grep -q 'not found' <<<"$ldd_out"; then
  fail "a library of $binary is missing on this machine:"$'\n'"$ldd_out"
fi
libs="$(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out" | sort -u)"
if [ -z "$libs" ] && ! grep -q 'not a dynamic executable\|statically linked' <<<"$ldd_out"; then
  fail "cannot read ldd's output for $binary:"$'\n'"$ldd_out"
fi
for lib in $libs; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
  echo "   $lib" >&2
done

echo "== /etc: passwd, group, nsswitch.conf, CA certificates" >&2
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
weft:x:10001:10001:weft:/var/lib/weft:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
weft:x:10001:
nogroup:x:65534:
EOF
# /etc/hosts first (the kubelet and podman write it), then DNS.
cat >"$rootfs/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
ca=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca" ] || fail "no CA bundle at $ca (Debian: apt-get install ca-certificates)"
cp -L "$ca" "$rootfs$ca"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/nsswitch.conf" "$rootfs$ca"

# Owned by weft in the image (the Containerfile's --chown): its config
# directory, the compiled-component cache (0700: weft runs the code it finds
# there), its state (the module store) and the admin socket's directory.
mkdir -p "$owned/etc/weft" "$owned/var/cache/weft" "$owned/var/lib/weft" "$owned/run/weft"
chmod 0755 "$owned/etc/weft"
chmod 0700 "$owned/var/cache/weft"
chmod 0750 "$owned/var/lib/weft" "$owned/run/weft"

cp deploy/Containerfile "$context/Containerfile"

version="$("$binary" --version 2>/dev/null | head -n1 | sed -n 's/^weft //p')" || true
labels=()
if [ -n "$version" ]; then
  labels=(--label "org.opencontainers.image.version=$version")
fi

echo "== ${build[*]} -t $tag ($(du -sh "$context" | cut -f1) context)" >&2
"${build[@]}" --file "$context/Containerfile" --tag "$tag" "${labels[@]}" "$context" >&2
echo "$tag"
