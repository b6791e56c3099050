#!/usr/bin/env bash
# FlowForge boundary checks: the reaper links no Foundation, networking, database or argument parser.
# Run by scripts/test.sh after a debug build.
set -euo pipefail
for arg in "$@"; do
    case "$arg" in
        -h|--help)
            echo "Usage: scripts/validate.sh [--help]"
            echo "Checks that the reaper's modules import no Foundation, NIO, Hummingbird, GRDB, ArgumentParser"
            echo "or Logging, and that the built flowforge-reaper links no Foundation library."
            exit 0 ;;
        *) echo "validate.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    esac
done
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
fail=0
for dir in Sources/FlowForgeReaper Sources/flowforge-reaper Sources/FlowForgeSystem Sources/FlowForgeWire; do
    if grep -rnE '^\s*(@_exported )?import (Foundation|FoundationEssentials|NIO|Hummingbird|GRDB|ArgumentParser|Logging)' "$dir"; then
        echo "validate: $dir must not import the modules above" >&2
        fail=1
    fi
done
bin="$repo/.build/debug/flowforge-reaper"
if [[ -x "$bin" ]] && ldd "$bin" | grep -qiE 'foundation'; then
    echo "validate: flowforge-reaper links Foundation:" >&2
    ldd "$bin" | grep -i foundation >&2
    fail=1
fi
if [[ $fail -eq 0 ]]; then
    echo "validate: reaper boundaries hold"
fi
exit "$fail"
