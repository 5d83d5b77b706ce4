#!/usr/bin/env bash
# Smoke test of weft's container image: build it from a binary with
# deploy/build-image.sh, check its config (user, entrypoint, command, port,
# volume, environment), then run the weft inside it.
#
#   deploy/smoke-image.sh [--binary PATH]   (default: target/release/weft)
#
# `podman run` does not work on every machine (crun's setrlimit and cgroup
# errors where the container runs inside another sandbox), so the image is
# not run as a container: its filesystem is exported (`podman create` +
# `podman export`) and the binary runs from it with `chroot` as uid 10001
# (as root), or, without root, through the image's own dynamic loader with
# the image's libraries. Either way nothing from the machine's /lib is used.
#
# Exits 0 when every check passes; 1 with the failed check otherwise; 0 with
# "skipped: ..." only when podman cannot be installed or used at all.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=target/release/weft
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "smoke-image.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "smoke-image.sh: FAILED: $*" >&2; exit 1; }
skip() { echo "smoke-image.sh: skipped: $*" >&2; exit 0; }
ok() { echo "   ok: $*" >&2; }

[ -x "$binary" ] || fail "no executable weft binary at $binary (pass --binary)"

# podman: install it when missing (Debian), as the other setup steps do.
if ! command -v podman >/dev/null; then
  echo "== installing podman (apt)" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
      skip "podman is not installed and cannot be installed here (not root, no sudo)"
    fi
  fi
  command -v apt-get >/dev/null || skip "podman is not installed and this machine has no apt-get"
  if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman; } >&2; then
    skip "podman is not installed and apt-get could not install it"
  fi
fi
podman info >/dev/null 2>&1 || skip "podman is installed but unusable here: $(podman info 2>&1 | tail -n1)"

tag="localhost/weft:smoke-$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/weft-smoke.XXXXXX")"
cid=""
cleanup() {
  if [ -n "$cid" ]; then podman rm -f "$cid" >/dev/null 2>&1 || true; fi
  podman rmi -f "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build the image ($binary)" >&2
deploy/build-image.sh --binary "$binary" --tag "$tag" >/dev/null ||
  fail "deploy/build-image.sh could not build the image"

echo "== image config" >&2
inspect() { podman image inspect --format "$1" "$tag"; }
user="$(inspect '{{.Config.User}}')"
[ "${user%%:*}" = 10001 ] || fail "image config User is '$user', not 10001"
ok "User $user"
entrypoint="$(inspect '{{json .Config.Entrypoint}}')"
[ "$entrypoint" = '["/usr/local/bin/weft"]' ] || fail "Entrypoint is $entrypoint"
ok "Entrypoint $entrypoint"
cmd="$(inspect '{{json .Config.Cmd}}')"
[ "$cmd" = '["serve","--config","/etc/weft/weft.toml"]' ] || fail "Cmd is $cmd"
ok "Cmd $cmd"
inspect '{{json .Config.ExposedPorts}}' | grep -q '"9464/tcp"' || fail "port 9464 is not exposed: $(inspect '{{json .Config.ExposedPorts}}')"
ok "exposes 9464/tcp"
inspect '{{json .Config.Volumes}}' | grep -q '"/var/cache/weft"' || fail "/var/cache/weft is not a volume: $(inspect '{{json .Config.Volumes}}')"
ok "volume /var/cache/weft"
inspect '{{json .Config.Env}}' | grep -q '"WEFT_CACHE_DIR=/var/cache/weft"' || fail "WEFT_CACHE_DIR is not /var/cache/weft: $(inspect '{{json .Config.Env}}')"
ok "WEFT_CACHE_DIR=/var/cache/weft"
echo "   size: $(podman image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%.1f MiB", $1 / 1048576 }')" >&2

echo "== image filesystem (podman create + export)" >&2
root="$work/root"
mkdir -p "$root"
cid="$(podman create "$tag")"
podman export "$cid" | tar -x --numeric-owner -C "$root" -f - || fail "cannot export the image's filesystem"
owner() { stat -c '%u:%g %a' "$root$1"; }
grep -qx 'weft:x:10001:10001:weft:/var/lib/weft:/sbin/nologin' "$root/etc/passwd" || fail "/etc/passwd has no weft user 10001: $(cat "$root/etc/passwd")"
grep -qx 'weft:x:10001:' "$root/etc/group" || fail "/etc/group has no weft group 10001"
ok "passwd/group: weft is 10001:10001"
[ "$(owner /var/cache/weft)" = "10001:10001 700" ] || fail "/var/cache/weft is $(owner /var/cache/weft), not 10001:10001 700"
ok "/var/cache/weft 10001:10001 700"
for d in /etc/weft /var/lib/weft /run/weft; do
  [ "$(owner "$d" | cut -d' ' -f1)" = 10001:10001 ] || fail "$d is $(owner "$d"), not owned by 10001"
done
ok "/etc/weft, /var/lib/weft, /run/weft owned by 10001"
[ "$(owner /tmp)" = "0:0 1777" ] || fail "/tmp is $(owner /tmp), not 0:0 1777"
[ "$(owner /usr/local/bin/weft)" = "0:0 755" ] || fail "the binary is $(owner /usr/local/bin/weft), not root-owned 755"
[ -s "$root/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA certificates in the image"
grep -q 'BEGIN CERTIFICATE' "$root/etc/ssl/certs/ca-certificates.crt" || fail "the CA bundle holds no certificate"
ok "/tmp 1777, binary root 755, CA bundle"

# A config with no modules (a worker that serves uploads to its store):
# `weft check` parses it (unknown keys are errors), opens the store and exits
# without contacting Temporal. Relative paths are relative to the config.
mkdir -p "$root/tmp/smoke"
cat >"$root/tmp/smoke/weft.toml" <<'EOF'
[temporal]
address = "temporal.example.internal:7233"
namespace = "smoke"

[metrics]
listen = "0.0.0.0:9464"

[shutdown]
grace_ms = 30000

[store]
dir = "store"

[[worker]]
task_queue = "SMOKE_Q"
kind = "workflow-only"
EOF
# Writable by the user weft runs as (uid 10001 in the chroot, else this one).
if [ "$(id -u)" -eq 0 ]; then chown -R 10001:10001 "$root/tmp/smoke"; fi

# As root: chroot into the image as uid 10001, the faithful way (the binary
# finds its loader and libraries at the image's paths), in private mount and
# PID namespaces with /proc and /dev mounted, as a container runtime would
# (they vanish with the namespace). Whether chroot is permitted is probed on
# the machine's own root, so that a broken image cannot pass by falling back.
chroot_bin="$(command -v chroot || true)"
if [ "$(id -u)" -eq 0 ] && [ -n "$chroot_bin" ] && "$chroot_bin" / true 2>/dev/null; then
  mkdir -p "$root/proc" "$root/dev"
  # The image's environment (Containerfile ENV), nothing from this shell's.
  image_env=(env -i PATH=/usr/local/bin WEFT_CACHE_DIR=/var/cache/weft HOME=/var/lib/weft)
  if unshare --mount --propagation private --pid --fork true 2>/dev/null; then
    how="chroot as uid 10001, own mount and PID namespaces"
    in_image() {
      unshare --mount --propagation private --pid --fork sh -c '
        root=$1; shift
        mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && exec "$@"' \
        sh "$root" "${image_env[@]}" "$chroot_bin" --userspec=10001:10001 "$root" /usr/local/bin/weft "$@"
    }
  else
    how="chroot as uid 10001, no /proc"
    in_image() { "${image_env[@]}" "$chroot_bin" --userspec=10001:10001 "$root" /usr/local/bin/weft "$@"; }
  fi
  config=/tmp/smoke/weft.toml
else
  loader="$(find "$root/lib64" "$root/lib" -maxdepth 2 -name 'ld-linux*.so*' 2>/dev/null | head -n1)"
  [ -n "$loader" ] || fail "no dynamic loader in the image"
  libpath="$(find "$root" -name '*.so*' -type f -printf '%h\n' | sort -u | paste -sd:)"
  how="the image's loader $(basename "$loader") with the image's libraries"
  in_image() { env -i WEFT_CACHE_DIR=off "$loader" --library-path "$libpath" "$root/usr/local/bin/weft" "$@"; }
  config="$root/tmp/smoke/weft.toml"
fi
echo "== run weft from the image ($how)" >&2
version="$(in_image --version 2>&1)" || fail "weft --version exited non-zero: $version"
case "$version" in
  "weft "*) ok "weft --version: $(head -n1 <<<"$version")" ;;
  *) fail "weft --version printed '$version', not a line starting with 'weft '" ;;
esac
help="$(in_image --help 2>&1)" || fail "weft --help exited non-zero: $help"
grep -q 'serve' <<<"$help" || fail "weft --help does not list the serve command"
ok "weft --help"
check="$(in_image check --config "$config" 2>&1)" || fail "weft check --config exited non-zero:"$'\n'"$check"
ok "weft check --config weft.toml (in the image)"
bad="$(in_image check --config "${config%/*}/no-such.toml" 2>&1)" && fail "weft check of a missing config exited 0: $bad"
ok "weft check of a missing config fails"

echo "smoke-image.sh: passed: the image builds, and weft runs from it ($how) and checks a config" >&2
