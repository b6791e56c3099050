#!/usr/bin/env bash
# FlowForge boundary checks: the reaper links no Foundation, networking, database or argument parser.
# Run by scripts/test.sh after a debug build.
set -euo pipefail
for arg in "$@"; do
    case "$arg" in
        -h|--help)
            echo "Usage: scripts/validate.sh [--help]"
            echo "Checks that the reaper's modules import no Foundation, NIO, Hummingbird, GRDB, ArgumentParser"
            echo "or Logging, and that the built flowforge-reaper is a static executable without Foundation."
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
if [[ -x "$bin" ]]; then
    # A static executable (Package.swift): ldd has nothing to list, so look for Foundation's symbols instead.
    if ldd "$bin" >/dev/null 2>&1; then
        echo "validate: flowforge-reaper must be a static executable, but it is dynamic:" >&2
        ldd "$bin" >&2
        fail=1
    fi
    foundation=$(nm "$bin" | grep -E '[$]s(10Foundation|20FoundationEssentials)' || true)
    if [[ -n "$foundation" ]]; then
        echo "validate: flowforge-reaper contains Foundation:" >&2
        head -n 5 <<<"$foundation" >&2
        fail=1
    fi
fi
if [[ $fail -eq 0 ]]; then
    echo "validate: reaper boundaries hold"
fi
exit "$fail"
