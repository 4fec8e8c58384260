#!/usr/bin/env bash
# One entry point for setting up, building and running libcopilot on Debian 12.
#
#   scripts/dev.sh demo    install what is missing, build, run the chat sample
#   scripts/dev.sh test    install what is missing, check format and generated code, build,
#                          run every test (unit and end-to-end against the pinned runtime)
#   scripts/dev.sh setup   install and configure only
#
# A second run installs nothing and rebuilds incrementally. COPILOT_PRESET picks the CMake
# preset (default: dev).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
preset=${COPILOT_PRESET:-dev}
runtime_dir="$root/scripts/runtime"
runtime_bin="$runtime_dir/node_modules/@github/copilot-linux-x64/copilot"

packages=(
    cmake ninja-build g++ clang-format-14 ccache pkg-config python3
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
)

log() { printf '==> %s\n' "$*" >&2; }

install_packages() {
    local missing=()
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$package")
    done
    command -v npm >/dev/null || missing+=(nodejs npm)
    [ ${#missing[@]} -eq 0 ] && return
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

install_runtime() {
    local pinned
    pinned=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"]["@github/copilot"])' \
        "$runtime_dir/package.json")
    local installed=""
    [ -f "$runtime_dir/node_modules/@github/copilot/package.json" ] &&
        installed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
            "$runtime_dir/node_modules/@github/copilot/package.json")
    if [ "$installed" != "$pinned" ] || [ ! -x "$runtime_bin" ]; then
        log "installing the Copilot runtime $pinned"
        (cd "$runtime_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
}

configure() {
    [ -f "$root/build/$preset/build.ninja" ] && return
    log "configuring preset $preset"
    (cd "$root" && cmake --preset "$preset" >/dev/null)
}

build() {
    log "building preset $preset"
    (cd "$root" && cmake --build --preset "$preset")
}

setup() {
    install_packages
    install_runtime
    configure
}

check_format() {
    log "checking clang-format"
    (cd "$root" && git ls-files '*.hpp' '*.cpp' | xargs clang-format-14 --dry-run -Werror)
}

check_generated() {
    log "regenerating wire types from the pinned runtime's schemas"
    (cd "$root" && scripts/codegen/regenerate.sh --check)
}

warm_runtime() {
    # The first run unpacks the runtime under $HOME/.cache; do it once, not in parallel tests.
    [ -d "$HOME/.cache/copilot/pkg" ] || "$runtime_bin" --version >/dev/null
}

run_tests() {
    warm_runtime
    log "running the test suite"
    (cd "$root" && ctest --preset "$preset" --output-on-failure -j2 --timeout 600)
}

case "${1:-}" in
setup) setup ;;
demo)
    setup
    build
    shift
    "$root/build/$preset/samples/chat" "$@"
    ;;
test)
    setup
    check_format
    check_generated
    build
    run_tests
    ;;
*)
    echo "usage: scripts/dev.sh {demo|test|setup}" >&2
    exit 2
    ;;
esac
