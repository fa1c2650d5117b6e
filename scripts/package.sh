#!/usr/bin/env bash
# Builds the installable package: a release build bundled by the Tauri CLI into
# $CARGO_TARGET_DIR/release/bundle/deb/*.deb, with the embedding model and ONNX Runtime inside
# (installed under /usr/lib/Support Bot Desktop/models), so the installed app syncs with an
# empty home and no network. Installs what is missing first, like the other scripts.
#   bash scripts/package.sh                 the .deb
#   bash scripts/package.sh --appimage      also the AppImage (the Tauri CLI downloads its
#                                           AppImage tools from GitHub: needs that network)
#   bash scripts/package.sh --print-config  the bundle settings it passes, as JSON (tests)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# The Tauri CLI of the same minor version as the tauri crate; from npm, pinned.
TAURI_CLI_VERSION=2.12.5

bundles=deb
print_only=0
for arg in "$@"; do
  case "$arg" in
    --appimage) bundles=deb,appimage ;;
    --print-config) print_only=1 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

stage="${CARGO_TARGET_DIR:-$HOME/.cache/supportbot/target}/bundle-resources"
# The package's resources (bundle.resources: source → place under /usr/lib/<product>/), and
# its Debian dependencies beyond WebKitGTK 4.1 and GTK 3 (which the Tauri CLI declares): D-Bus,
# and a Secret Service recommended (without one, secrets go to the encrypted-file store).
config=$(cat <<JSON
{
  "mainBinaryName": "supportbot",
  "bundle": {
    "longDescription": "Connect ServiceNow and Jira, sync incidents into a local knowledge base with a local embedding model, and test the support bot and its hand-off to a live agent.",
    "targets": ["${bundles//,/\", \"}"],
    "resources": { "$stage/models/": "models/" },
    "linux": {
      "deb": {
        "depends": ["dbus"],
        "recommends": ["gnome-keyring"],
        "section": "utils"
      }
    }
  }
}
JSON
)
if [ "$print_only" = 1 ]; then
  printf '%s\n' "$config"
  exit 0
fi

bash scripts/setup.sh
source scripts/env.sh

say "Staging the model and ONNX Runtime as bundle resources"
bash scripts/fetch-model.sh >/dev/null
models="${SUPPORTBOT_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/supportbot/models}"
rm -rf "$stage"
mkdir -p "$stage/models"
cp -r "$models/all-minilm-l6-v2" "$models/onnxruntime" "$stage/models/"

say "Building the UI"
(cd ui && npm run --silent build)

say "Building the release bundle ($bundles) with the Tauri CLI $TAURI_CLI_VERSION"
npx --yes "@tauri-apps/cli@$TAURI_CLI_VERSION" build --bundles "$bundles" --config "$config"

out="$CARGO_TARGET_DIR/release/bundle/deb"
deb=$(ls -t "$out"/*.deb | head -1)
say "Built $deb"
echo "Install it with: sudo apt install $deb"
