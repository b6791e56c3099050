#!/usr/bin/env bash
# FlowForge install: system packages, a release build, and the ./flowforge launcher at the repo root.
# Safe to re-run. See --help.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: ./scripts/install.sh [--no-services] [--no-demo] [--open-browser] [--help]

Installs what FlowForge needs (libseccomp-dev, libcap-dev; apt-get when root), builds the release
binaries, and leaves ./flowforge at the repo root.

  --no-services   build and set up only; start nothing
  --no-demo       do not run the demo after installing
  --open-browser  open the dashboard in a browser once it runs
  --help          show this help
USAGE
}

no_services=0
no_demo=0
open_browser=0
for arg in "$@"; do
    case "$arg" in
        --no-services) no_services=1 ;;
        --no-demo) no_demo=1 ;;
        --open-browser) open_browser=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/lib/deps.sh
source "$repo/scripts/lib/deps.sh"

step() { printf '==> %s\n' "$*"; }

step "checking system packages (libseccomp-dev libcap-dev)"
ensure_packages libseccomp-dev libcap-dev

if ! command -v swift >/dev/null 2>&1; then
    echo "install.sh: swift is not on PATH; install Swift 6 (https://www.swift.org/install/) and re-run" >&2
    exit 1
fi

step "building release binaries (the first build takes a few minutes)"
swift build -c release 2>&1 | while IFS= read -r line; do
    case "$line" in
        *error*|*warning:*|Build*|Compiling*|Linking*) printf '    %s\n' "$line" ;;
    esac
done
if [[ ! -x "$repo/.build/release/flowforge" || ! -x "$repo/.build/release/flowforge-reaper" ]]; then
    echo "install.sh: the release build failed; run 'swift build -c release' to see why" >&2
    exit 1
fi

services="not started"
if [[ $no_services -eq 0 ]]; then
    services="none yet (the dashboard arrives with the API work)"
fi
if [[ $open_browser -eq 1 ]]; then
    echo "install.sh: --open-browser: there is no dashboard to open in this version"
fi
demo="skipped"
if [[ $no_demo -eq 0 ]]; then
    demo="none yet (the demo arrives with the detection work)"
fi

echo "FlowForge installed: ./flowforge ($("$repo/.build/release/flowforge" --version 2>/dev/null || echo built)); services: $services; demo: $demo"
