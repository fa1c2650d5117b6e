#!/usr/bin/env bash
# Retrieval quality and the bot's answer/decline rates (BENCHMARKS.md, "Retrieval quality"), on
# two knowledge bases, each synced through the CLI into a throw-away data directory:
#  1. the simulator's demo data (500 incidents, seed 42): the original labelled set
#     (tests/data/kb_eval_demo.json) and the TUNING sets the fusion weights, the relevance
#     curve and the decline threshold were chosen on (kb_tuning_demo.json: user-style
#     questions; kb_decline_tuning*.json: questions no incident answers);
#  2. corpus B (tests/data/corpus_b/: another company's 199 incidents): the unseen EVALUATION
#     set (eval.json: user-style questions written from topic names only, and out-of-scope
#     questions), never used for a choice.
# Usage: bash scripts/eval-retrieval.sh [--json]   (SUPPORTBOT_BIN overrides the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bin=${SUPPORTBOT_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -p supportbot >&2
  bin="$CARGO_TARGET_DIR/release/supportbot"
fi
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
export SUPPORTBOT_SECRET_STORE=file

# eval_on NAME SIM_ARGS... -- FILES...: serve, sync, evaluate.
eval_on() {
  local name=$1; shift
  local sim_args=()
  while [ "$1" != "--" ]; do sim_args+=("$1"); shift; done
  shift
  "$bin" sim --port 0 "${sim_args[@]}" >"$work/$name.sim" &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q '^listening on ' "$work/$name.sim" && break; sleep 0.1; done
  local url
  url=$(sed -n 's/^listening on //p' "$work/$name.sim" | head -n 1)
  export SUPPORTBOT_DATA_DIR="$work/$name"
  SUPPORTBOT_PASSWORD=admin "$bin" integrations add --name "$name" --kind servicenow \
    --auth basic --url "$url" --username admin >&2
  "$bin" sync "$name" >&2
  "$bin" kb eval "$@" "${json[@]}"
}

json=()
[ "${1:-}" = "--json" ] && json=(--json)
echo "== demo incidents (tuning)"
eval_on Demo -- tests/data/kb_eval_demo.json tests/data/kb_tuning_demo.json \
  tests/data/kb_decline_tuning.json tests/data/kb_decline_tuning_hard.json
echo
echo "== corpus B (unseen evaluation)"
eval_on CorpusB --fixture tests/data/corpus_b/incidents.json -- tests/data/corpus_b/eval.json
