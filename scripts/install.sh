#!/usr/bin/env bash
# FlowForge install: system packages, a release build, the ./flowforge launcher, the API key, the dashboard
# in the background and the demo. Safe to re-run. See --help.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: ./scripts/install.sh [--no-services] [--no-demo] [--open-browser] [--help]

Installs what FlowForge needs (libseccomp-dev, libcap-dev, libsqlite3-dev, curl; apt-get when root,
otherwise it says what to install), builds the release binaries, leaves ./flowforge at the repo root,
creates the API key file (mode 0600) in the state directory if there is none, starts the dashboard
in the background, runs the demo and prints the dashboard URL.

  --no-services   build and set up only; start nothing
  --no-demo       do not run the demo
  --open-browser  also open the dashboard in a browser (xdg-open), or print the URL
  --help          show this help

Stop the background dashboard with: ./flowforge dashboard --stop
The state directory is $FLOWFORGE_STATE_DIR, else ~/.local/state/flowforge.
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

step "[1/5] system packages (libseccomp-dev libcap-dev libsqlite3-dev curl)"
ensure_packages libseccomp-dev libcap-dev libsqlite3-dev curl

if ! command -v swift >/dev/null 2>&1; then
    echo "install.sh: swift is not on PATH; install Swift 6 (https://www.swift.org/install/) and re-run" >&2
    exit 1
fi

step "[2/5] release build (the first build takes several minutes; progress below)"
build_log="$(mktemp)"
trap 'rm -f "$build_log"' EXIT
if ! swift build -c release 2>&1 | tee "$build_log" | while IFS= read -r line; do
        case "$line" in
            \[*/*\]*) printf '\r    %-100.100s' "$line" ;;
            *error:*) printf '\n    %s\n' "$line" ;;
        esac
    done; then
    :
fi
printf '\n'
if [[ ! -x "$repo/.build/release/flowforge" || ! -x "$repo/.build/release/flowforge-reaper" ]] || grep -q 'error:' "$build_log"; then
    echo "install.sh: the release build failed; the errors:" >&2
    grep 'error:' "$build_log" | head -20 >&2 || true
    exit 1
fi
version="$("$repo/flowforge" --version)"

step "[3/5] state directory and API key"
state="${FLOWFORGE_STATE_DIR:-$HOME/.local/state/flowforge}"
(umask 077 && mkdir -p "$state/runs")
# Ours alone, as FlowForge itself insists (docs/flowforge-run.md): never chmod or write through someone
# else's directory or a planted symlink.
for dir in "$state" "$state/runs"; do
    if [[ -L "$dir" || ! -d "$dir" || ! -O "$dir" ]]; then
        echo "install.sh: $dir is not a directory of yours (or is a symlink); set FLOWFORGE_STATE_DIR to one" >&2
        exit 1
    fi
done
chmod 700 "$state" "$state/runs"
key_file="$state/api.key"
if [[ -L "$key_file" ]]; then
    echo "install.sh: $key_file is a symlink; remove it (the key file must be a regular file)" >&2
    exit 1
fi
if [[ -n "${FLOWFORGE_API_KEY:-}" ]]; then
    echo "    using FLOWFORGE_API_KEY from the environment (no key file written)"
elif [[ -s "$key_file" ]]; then
    chmod 600 "$key_file"
    echo "    API key: $key_file (kept)"
else
    # noclobber: the key file is created, never an existing file (or a symlink raced in) written through.
    (umask 077 && set -C && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$key_file")
    echo "    API key: $key_file (new, mode 0600); use it as: export FLOWFORGE_API_KEY=\$(cat $key_file)"
fi

url=""
services="not started (--no-services)"
if [[ $no_services -eq 0 ]]; then
    step "[4/5] dashboard"
    "$repo/flowforge" dashboard --background
    url="$(cat "$state/dashboard.url" 2>/dev/null || echo http://127.0.0.1:8080)"
    services="dashboard at $url"
else
    step "[4/5] services skipped (--no-services)"
fi

demo="skipped (--no-demo)"
if [[ $no_demo -eq 0 ]]; then
    step "[5/5] demo"
    if "$repo/flowforge" demo; then demo="passed"; else demo="FAILED"; fi
else
    step "[5/5] demo skipped (--no-demo)"
fi

if [[ $open_browser -eq 1 ]]; then
    if [[ -z "$url" ]]; then
        echo "    --open-browser: no dashboard was started (--no-services); start one with ./flowforge dashboard"
    elif command -v xdg-open >/dev/null 2>&1; then
        xdg-open "$url" >/dev/null 2>&1 || echo "    could not open a browser; open $url yourself"
    else
        echo "    no browser opener (xdg-open) here; open $url yourself"
    fi
fi

echo "FlowForge $version installed: ./flowforge; $services; demo $demo${url:+; open $url}"
[[ "$demo" != "FAILED" ]]
