#!/usr/bin/env bash
# FlowForge's one test command: installs what the tests need, builds, runs swift test, the drills and the
# script checks. Exits non-zero on any failure. CI runs exactly this (.ci/run).
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: ./scripts/test.sh [--skip-drills] [--help]

  --skip-drills   run the build and swift test only
  --help          show this help
USAGE
}

skip_drills=0
for arg in "$@"; do
    case "$arg" in
        --skip-drills) skip_drills=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "test.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/lib/deps.sh
source "$repo/scripts/lib/deps.sh"

# Tests must see what a user's shell has, not this machine's PYTHONUNBUFFERED=1.
unset PYTHONUNBUFFERED

echo "==> system packages"
ensure_packages libseccomp-dev libcap-dev libsqlite3-dev curl shellcheck prometheus prometheus-alertmanager systemd util-linux

echo "==> swift build"
swift build

echo "==> swift test"
swift test

echo "==> shellcheck"
shellcheck -x flowforge scripts/*.sh scripts/lib/*.sh scripts/drills/*.sh bench/*.sh
bash scripts/validate.sh

# Everything below keeps its state (spools, store, key) in a throwaway directory.
FLOWFORGE_STATE_DIR="$(mktemp -d)"
export FLOWFORGE_STATE_DIR
trap 'rm -rf "$FLOWFORGE_STATE_DIR"' EXIT

if [[ $skip_drills -eq 0 ]]; then
    echo "==> recovery drills"
    FLOWFORGE="$repo/.build/debug/flowforge" bash scripts/recovery_drill.sh
fi

echo "==> detection tuning, offline (replay over recorded fixtures)"
bash scripts/check_tuning.sh --bin "$repo/.build/debug/flowforge"

echo "==> detection corpus, offline (every profile's recording replayed at the defaults and at --max-cpu 70)"
bash scripts/check_detection_corpus.sh --bin "$repo/.build/debug/flowforge"

echo "==> coverage-guided fuzzing (libFuzzer + ASan, 45 s per target), then the inputs against a live dashboard"
bash scripts/fuzz.sh --live "$repo/.build/debug/flowforge"

echo "==> openapi.yaml against a real dashboard and a real run --listen (schemathesis, 0 failures)"
bash scripts/check_openapi.sh --bin "$repo/.build/debug/flowforge"

echo "==> alerting: the rules under promtool, then a real Prometheus and Alertmanager over three dashboards and a runaway"
bash scripts/check_alerting.sh --bin "$repo/.build/debug/flowforge"

echo "==> dashboard in a real browser (headless Chromium)"
FLOWFORGE_MAX_CPU="${FLOWFORGE_MAX_CPU:-50}" bash scripts/browser_check.sh --bin "$repo/.build/debug/flowforge"

echo "==> the README's commands on a fresh clone: install (release build), then the release-gate smoke check"
clone="$(mktemp -d)/flowforge"
trap 'rm -rf "$FLOWFORGE_STATE_DIR" "$(dirname "$clone")"' EXIT
git clone --quiet "$repo" "$clone"
(cd "$clone" && bash scripts/install.sh --no-services --no-demo && bash scripts/smoke_local.sh)
echo "==> all tests passed"
