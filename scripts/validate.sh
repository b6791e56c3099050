#!/usr/bin/env bash
# FlowForge boundary checks: the reaper links no Foundation, networking, database or argument parser.
# Run by scripts/test.sh after a debug build.
set -euo pipefail
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
