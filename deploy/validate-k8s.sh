#!/usr/bin/env bash
# Checks the Kubernetes manifests in deploy/k8s, offline (no cluster):
#
#   deploy/validate-k8s.sh [--kubernetes-version 1.30.0] [--weft PATH]
#
# 1. Renders every kustomization (base, overlays, sidecar) with
#    `kubectl kustomize` (or `kustomize build`).
# 2. Validates every rendered resource against the Kubernetes API schemas of
#    one pinned version, strictly (unknown fields are errors), with
#    kubernetes-validate (PyPI; installed when missing).
# 3. Checks what the schemas cannot: every weft container has the /healthz
#    and /readyz probes on its [metrics] port, runs as non-root with a
#    read-only root filesystem and no capabilities, has resource requests and
#    limits, and its pod's terminationGracePeriodSeconds exceeds the
#    [shutdown] grace_ms of the weft.toml it mounts.
# 4. With --weft PATH: `weft check --config` of every weft.toml in deploy/k8s
#    (its absolute paths moved under a temporary directory), so a key weft
#    does not know fails here, not in a pod.
#
# Without any kustomize renderer (none from apt; kubectl ships one) it
# validates the plain manifest files instead and says so. Exits non-zero on
# any invalid manifest.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBERNETES_VERSION=1.30.0
KUBERNETES_VALIDATE_VERSION=1.37.0
weft=""
while [ $# -gt 0 ]; do
  case "$1" in
    --kubernetes-version) KUBERNETES_VERSION="${2:?}"; shift 2 ;;
    --weft) weft="${2:?--weft needs a path}"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "validate-k8s.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "validate-k8s.sh: FAILED: $*" >&2; exit 1; }
step() { printf '== %s\n' "$*" >&2; }

step "kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI)"
if ! python3 -c "import kubernetes_validate, sys; from importlib.metadata import version; sys.exit(version('kubernetes-validate') != '$KUBERNETES_VALIDATE_VERSION')" 2>/dev/null; then
  # Debian's python3 is "externally managed" (PEP 668): allow the install there.
  python3 -m pip install --quiet --break-system-packages "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" 2>/dev/null ||
    python3 -m pip install --quiet "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
validate() { python3 -m kubernetes_validate --kubernetes-version "$KUBERNETES_VERSION" --strict --quiet "$@"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/weft-k8s.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The validator must reject what is wrong, or a green run means nothing.
cat >"$work/known-bad.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: { name: known-bad }
spec:
  replicas: three
  selector: { matchLabels: { app: x } }
  template:
    metadata: { labels: { app: x } }
    spec: { containers: [{ name: x, image: x, unknownField: 1 }] }
EOF
if validate "$work/known-bad.yaml" >/dev/null 2>&1; then
  fail "kubernetes-validate accepted a known-bad manifest: it validates nothing"
fi

if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
  render=(kubectl kustomize)
  renderer="kubectl kustomize ($(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p'))"
elif command -v kustomize >/dev/null; then
  render=(kustomize build)
  renderer="kustomize build ($(kustomize version 2>/dev/null))"
else
  render=()
fi

rendered=()
if [ ${#render[@]} -gt 0 ]; then
  step "render every kustomization with $renderer"
  while IFS= read -r k; do
    dir="$(dirname "$k")"
    out="$work/$(tr / _ <<<"$dir").yaml"
    "${render[@]}" "$dir" >"$out" 2>"$work/render.err" || fail "cannot render $dir:"$'\n'"$(cat "$work/render.err")"
    [ -s "$out" ] || fail "$dir renders to nothing"
    rendered+=("$dir=$out")
  done < <(find deploy/k8s -name kustomization.yaml | sort)
else
  echo "validate-k8s.sh: no kustomize renderer (kubectl or kustomize): validating the plain manifest files; generated ConfigMaps/Secrets and the overlays' patches are not checked" >&2
  while IFS= read -r f; do
    rendered+=("$f=$f")
  done < <(find deploy/k8s -name '*.yaml' ! -name kustomization.yaml ! -name 'patch-*.yaml' | sort)
fi

step "validate against Kubernetes $KUBERNETES_VERSION (strict)"
total=0
for entry in "${rendered[@]}"; do
  name="${entry%%=*}" file="${entry#*=}"
  if ! validate "$file" >"$work/validate.out" 2>&1; then
    cat "$work/validate.out" >&2
    fail "$name: invalid manifest (Kubernetes $KUBERNETES_VERSION)"
  fi
  n="$(grep -c '^kind:' "$file" || true)"
  total=$((total + n))
  echo "   ok: $name ($n resources)" >&2
done

step "weft's own rules (probes, security context, resources, shutdown grace)"
if ! python3 - "${rendered[@]}" <<'EOF'
import sys, yaml
try:
    import tomllib
except ImportError:  # Python < 3.11: the grace check is skipped
    tomllib = None

problems = []
for entry in sys.argv[1:]:
    name, path = entry.split("=", 1)
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d.get("kind") == "ConfigMap"}
    for d in docs:
        if d.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        where = f"{name}: {d['kind']} {d['metadata']['name']}"
        pod = d["spec"]["template"]["spec"]
        psc = pod.get("securityContext", {})
        containers = pod.get("containers", []) + pod.get("initContainers", [])
        for c in containers:
            if c["image"].split("/")[-1].split(":")[0] != "weft":
                continue
            w = f"{where}, container {c['name']}"
            csc = c.get("securityContext", {})
            if not (csc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
                problems.append(f"{w}: runAsNonRoot is not set")
            if not csc.get("readOnlyRootFilesystem"):
                problems.append(f"{w}: readOnlyRootFilesystem is not true")
            if "ALL" not in csc.get("capabilities", {}).get("drop", []):
                problems.append(f"{w}: capabilities do not drop ALL")
            if csc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{w}: allowPrivilegeEscalation is not false")
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in res.get(kind, {}):
                        problems.append(f"{w}: no {kind}.{r}")
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            for probe, path_ in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                get = c.get(probe, {}).get("httpGet", {})
                if get.get("path") != path_ or ports.get(get.get("port"), get.get("port")) is None:
                    problems.append(f"{w}: {probe} is not httpGet {path_} on a declared port")
            # The weft.toml it runs with: the ConfigMap mounted at /etc/weft.
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            vol = volumes.get(mounts.get("/etc/weft"), {})
            cm = vol.get("configMap", {}).get("name")
            toml_text = configmaps.get(cm, {}).get("weft.toml")
            if toml_text is None or tomllib is None:
                continue
            cfg = tomllib.loads(toml_text)
            listen = cfg.get("metrics", {}).get("listen", "")
            if not listen.endswith(":%d" % ports.get("metrics", -1)):
                problems.append(f"{w}: [metrics] listen {listen!r} is not the container's metrics port")
            grace_ms = cfg.get("shutdown", {}).get("grace_ms", 30000)
            tgps = pod.get("terminationGracePeriodSeconds", 30)
            if tgps * 1000 <= grace_ms:
                problems.append(f"{w}: terminationGracePeriodSeconds {tgps} s is not above [shutdown] grace_ms {grace_ms} ms")
for p in problems:
    print("   " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
then
  fail "weft's rules (above)"
fi
echo "   ok" >&2

if [ -n "$weft" ]; then
  step "weft check --config of every weft.toml in deploy/k8s ($weft)"
  [ -x "$weft" ] || fail "no executable weft at $weft"
  while IFS= read -r f; do
    case "$f" in *.grants.toml | */temporal.toml) continue ;; esac
    d="$work/check/$(tr / _ <<<"$f")"
    mkdir -p "$d/var/lib/weft/orders" "$d/run/weft" "$d/var/run/secrets/temporal"
    echo "not-a-real-key" >"$d/var/run/secrets/temporal/api-key"
    sed -e "s|\"/var/lib/weft|\"$d/var/lib/weft|g" -e "s|unix:/run/weft|unix:$d/run/weft|g" \
      -e "s|\"/var/run/secrets|\"$d/var/run/secrets|g" "$f" >"$d/weft.toml"
    if ! WEFT_CACHE_DIR=off "$weft" check --config "$d/weft.toml" >"$d/out" 2>&1; then
      cat "$d/out" >&2
      fail "weft check rejects $f"
    fi
    echo "   ok: $f" >&2
  done < <(find deploy/k8s -name '*.toml' | sort)
fi

what="kustomizations rendered"
[ ${#render[@]} -gt 0 ] || what="plain manifest files (no renderer)"
echo "validate-k8s.sh: passed: ${#rendered[@]} $what, $total resources valid for Kubernetes $KUBERNETES_VERSION" >&2
