#!/usr/bin/env bash
# Runs every check and test: formatting, lints, type checks, UI tests, Rust tests (with a real
# headless Secret Service) and the end-to-end test of the real window (Xvfb + tauri-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
source scripts/env.sh

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
log_dir=$(mktemp -d)

step "Setup: with Node.js 18 first on the PATH, the scripts still get Node.js >= 20.19"
old_node=$(mktemp -d)
printf '#!/bin/sh\necho v18.19.0\nexit 1\n' >"$old_node/node"; chmod +x "$old_node/node"
got=$(PATH="$old_node:$PATH" bash -c 'source scripts/env.sh; node --version')
rm -rf "$old_node"
case "$got" in v2[0-9].*) echo "node $got" ;; *) echo "expected Node.js >= 20.19, got '$got'" >&2; exit 1 ;; esac

step "cargo fmt --check"
cargo fmt --all -- --check

step "UI: type check, lint, unit tests, build"
(cd ui && npm run --silent check && npm run --silent lint && npm run --silent test -- --reporter=default 2>&1 | tee "$log_dir/vitest.log" && npm run --silent build)

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build (tests and the app binary)"
cargo build --workspace --all-targets --locked

step "cargo test (headless Secret Service + Xvfb window)"
export XDG_DATA_HOME XDG_RUNTIME_DIR
XDG_DATA_HOME=$(mktemp -d)   # a fresh, throw-away keyring
XDG_RUNTIME_DIR=$(mktemp -d); chmod 700 "$XDG_RUNTIME_DIR"
export SUPPORTBOT_REQUIRE_KEYRING=1 SUPPORTBOT_REQUIRE_E2E=1 SUPPORTBOT_REQUIRE_MODEL=1
dbus-run-session -- bash -c '
  set -euo pipefail
  echo -n supportbot-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  # Wait until the Secret Service owns its bus name; tests racing it fail with a prompt error.
  for _ in $(seq 1 200); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
    sleep 0.05
  done
  xvfb-run -a -s "-screen 0 1280x800x24" cargo test --workspace --locked -- --test-threads=2
' 2>&1 | tee "$log_dir/cargo-test.log"

step "Conformance: ServiceNow's pysnc and the jira client against supportbot sim"
venv="${SUPPORTBOT_VENV:-$HOME/.cache/supportbot/venv-conformance}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! cmp -s tests/conformance/requirements.txt "$venv/.requirements"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/conformance/requirements.txt
  cp tests/conformance/requirements.txt "$venv/.requirements"
fi
SUPPORTBOT_SIM_COMMAND="$CARGO_TARGET_DIR/debug/supportbot sim" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/conformance 2>&1 | tee "$log_dir/pytest.log"

# One closing line for the whole run.
# Counting must not fail the run: strip colour codes, and let a missing match count as 0.
count() { sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -oE "$2" | awk "{s+=\$$3} END {print s+0}" || true; }
passed=$(count "$log_dir/cargo-test.log" "test result: ok\. [0-9]+ passed" 4)
ui_passed=$(count "$log_dir/vitest.log" "Tests +[0-9]+ passed" 2)
py_passed=$(count "$log_dir/pytest.log" "[0-9]+ passed" 1)
echo
echo "all: $((passed + ${ui_passed:-0} + ${py_passed:-0})) passed, 0 failed"
