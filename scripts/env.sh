# Shared settings for the scripts (sourced, not run).
# The build lives outside the clone so fresh clones (CI) reuse it; override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/supportbot/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# Two cores: more parallel rustc jobs only thrash memory and the linker.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
