#!/usr/bin/env bash
# Sets up what is missing, builds the UI and the app, and opens the window.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

printf '\033[1m==> Building the UI\033[0m\n'
(cd ui && npm run --silent build)
printf '\033[1m==> Building the app (the first build takes about 10 minutes)\033[0m\n'
cargo build --bin supportbot
bin="$CARGO_TARGET_DIR/debug/supportbot"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$bin" "$@"
fi
echo "No display found: running the window inside a virtual X server (Xvfb)."
echo "Take a screenshot with: DISPLAY=<shown below> import -window root shot.png"
exec xvfb-run -a -s '-screen 0 1280x800x24' sh -c 'echo "DISPLAY=$DISPLAY"; exec "$0" "$@"' "$bin" "$@"
