#!/usr/bin/env bash
# FlowForge boundary checks: the reaper links no Foundation, networking, database or argument parser.
# Run by scripts/test.sh after a debug build.
set -euo pipefail
for arg in "$@"; do
    case "$arg" in
        -h|--help)
            echo "Usage: scripts/validate.sh [--help]"
            echo "Checks that the reaper's modules import no Foundation, NIO, Hummingbird, GRDB, ArgumentParser"
            echo "or Logging; that no module but FlowForgeSystem and CFlowForgeSys imports Glibc or the C shim"
            echo "(libc goes through FlowForgeSystem's syscall funnel; fuzz/ is a package of its own, not checked);"
            echo "that dependencies point one way: FlowForgeStore and FlowForgeDetector never import FlowForgeAPI,"
            echo "FlowForgeAPI never imports FlowForgeStore, and FlowForgeModel imports only FlowForgeWire, Foundation"
            echo "and Synchronization; and that the built flowforge-reaper is a static executable without Foundation."
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
# Only FlowForgeSystem (over the shim) talks to libc directly; every other module uses its typed wrappers.
# Sources/ only: the fuzz/ package compiles some of these files again through symlinks, and its tools are
# its own business.
libc=$(grep -rnE '^\s*(@_exported )?import (Glibc|CFlowForgeSys)\b' Sources \
    --exclude-dir=FlowForgeSystem --exclude-dir=CFlowForgeSys || true)
if [[ -n "$libc" ]]; then
    echo "$libc" >&2
    echo "validate: only FlowForgeSystem and CFlowForgeSys may import Glibc or CFlowForgeSys" >&2
    fail=1
fi
# Dependencies point one way: the store and the detector never depend on the HTTP module, nor the HTTP module
# on the store (the dashboard's CLI joins them); the shared model stays free of HTTP, databases and libc.
for pair in FlowForgeStore:FlowForgeAPI FlowForgeDetector:FlowForgeAPI FlowForgeAPI:FlowForgeStore; do
    dir="Sources/${pair%%:*}" module="${pair##*:}"
    if grep -rnE "^\s*(@_exported |@testable )?import $module\b" "$dir"; then
        echo "validate: $dir must not import $module" >&2
        fail=1
    fi
done
model=$(grep -rnE '^\s*(@_exported |@testable )?import ' Sources/FlowForgeModel \
    | grep -vE 'import (FlowForgeWire|Foundation|Synchronization)$' || true)
if [[ -n "$model" ]]; then
    echo "$model" >&2
    echo "validate: FlowForgeModel may import only FlowForgeWire, Foundation and Synchronization" >&2
    fail=1
fi
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
