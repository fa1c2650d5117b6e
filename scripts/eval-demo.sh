#!/usr/bin/env bash
# Retrieval quality on the demo data (BENCHMARKS.md, "Retrieval quality"): serves the simulator's
# default data (500 incidents, seed 42), syncs it into a throw-away data directory through the
# CLI and runs `kb eval` on the labelled set tests/data/kb_eval_demo.json.
# Usage: bash scripts/eval-demo.sh [--json]   (SUPPORTBOT_BIN overrides the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bin=${SUPPORTBOT_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -p supportbot >&2
  bin="$CARGO_TARGET_DIR/release/supportbot"
fi
data=$(mktemp -d)
"$bin" sim --port 0 >"$data/sim.out" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do grep -q '^listening on ' "$data/sim.out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$data/sim.out" | head -n 1)
export SUPPORTBOT_DATA_DIR="$data/kb" SUPPORTBOT_SECRET_STORE=file
SUPPORTBOT_PASSWORD=admin "$bin" integrations add --name Demo --kind servicenow --auth basic \
  --url "$url" --username admin >&2
"$bin" sync Demo >&2
"$bin" kb eval tests/data/kb_eval_demo.json "$@"
