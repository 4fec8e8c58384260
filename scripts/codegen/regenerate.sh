#!/usr/bin/env bash
# Regenerates libcopilot's generated sources from the schemas of the pinned runtime.
#
# The runtime unpacks its schemas under $HOME/.cache/copilot on its first run, so it is run
# once with a scratch HOME to get them; nothing else is read from the machine.
#
# Usage: scripts/codegen/regenerate.sh [--check] [path/to/copilot]
#   --check  fail when the committed generated files differ from a fresh generation (CI)
set -euo pipefail

check=0
if [[ "${1:-}" == "--check" ]]; then
    check=1
    shift
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runtime="${1:-$repo/scripts/runtime/node_modules/@github/copilot-linux-x64/copilot}"

if [[ ! -x "$runtime" ]]; then
    echo "regenerate.sh: no runtime at $runtime (run the project's setup first)" >&2
    exit 1
fi

home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT

version="$(HOME="$home" "$runtime" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)"
schemas="$(find "$home/.cache/copilot/pkg" -type d -path "*/$version/schemas" | head -n1)"
if [[ -z "$schemas" ]]; then
    echo "regenerate.sh: runtime $version did not unpack its schemas" >&2
    exit 1
fi

python3 "$repo/scripts/codegen/generate.py" \
    --api "$schemas/api.schema.json" \
    --events "$schemas/session-events.schema.json" \
    --root "$repo/libcopilot"

if [[ $check == 1 ]]; then
    cd "$repo"
    generated=(libcopilot/include/copilot/generated libcopilot/src/generated)
    if ! git diff --exit-code --stat -- "${generated[@]}" ||
        [[ -n "$(git ls-files --others --exclude-standard -- "${generated[@]}")" ]]; then
        echo "regenerate.sh: generated files are out of date; run scripts/codegen/regenerate.sh" >&2
        exit 1
    fi
fi
