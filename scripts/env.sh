# Shared settings for the scripts (sourced, not run).
# The build lives outside the clone so fresh clones (CI) reuse it; override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/supportbot/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# Two cores: more parallel rustc jobs only thrash memory and the linker.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
# Node.js for the UI: the pinned one scripts/fetch-node.sh unpacked, when the system's is too old.
_supportbot_node="$(bash "$(dirname "${BASH_SOURCE[0]}")/fetch-node.sh" 2>/dev/null || true)"
[ -n "$_supportbot_node" ] && export PATH="$_supportbot_node:$PATH"
unset _supportbot_node
