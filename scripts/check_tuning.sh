#!/usr/bin/env bash
# FlowForge offline tuning check (seconds, no workers run): replays the recorded runs in Tests/Fixtures/recordings
# through tune_detection.sh with a small sweep; the recommendation must be perfect and the HTML report must have a chart.
set -euo pipefail
unset PYTHONUNBUFFERED

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
prog=$(basename "$0")
fixtures="$repo/Tests/Fixtures/recordings"

usage() {
    cat <<EOF
Usage: $prog [--bin PATH] [--recordings DIR] [--help]

Runs scripts/tune_detection.sh on the recorded fixture runs ($fixtures by default) with a small sweep
(--max-cpu 70 85 95 x --min-confidence 0.7 0.8 0.9) through 'flowforge replay', and checks that:
  - the sweep ran,
  - the recommended setting catches every runaway recording,
  - it flags no healthy recording,
  - the HTML report was written and contains an <svg> chart.
Prints PASS/FAIL lines and "N passed, M failed"; exits 1 if anything failed, 2 on bad usage.
Offline and deterministic: it replays recordings, it runs no worker. Takes a few seconds.

Options:
  --bin PATH        flowforge binary with 'replay' (default: \$FLOWFORGE, else .build/release/flowforge,
                    else .build/debug/flowforge; a build without replay is skipped for the other one)
  --recordings DIR  recordings to check instead of the fixtures (a dir with *.jsonl and labels.tsv)
  -h, --help        show this help
EOF
}

usage_error() {
    printf '%s: %s\n' "$prog" "$1" >&2
    printf "Try '%s --help' for more information.\n" "$prog" >&2
    exit 2
}

bin_arg=""
while (($# > 0)); do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --bin|--recordings)
            if (($# < 2)) || [[ -z $2 ]]; then usage_error "$1 needs a value"; fi
            if [[ $1 == --bin ]]; then bin_arg=$2; else fixtures=$2; fi
            shift 2
            ;;
        --bin=*) bin_arg=${1#*=}; shift ;;
        --recordings=*) fixtures=${1#*=}; shift ;;
        *) usage_error "unknown option '$1'" ;;
    esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() {
    echo "check_tuning: $passed passed, $failed failed"
    if ((failed > 0)); then exit 1; fi
    exit 0
}

has_replay() {
    "$1" replay --help 2>&1 | grep -q 'flowforge replay'
}
if [[ -n $bin_arg ]]; then
    bin=$bin_arg
elif [[ -n ${FLOWFORGE:-} ]]; then
    bin=$FLOWFORGE
else
    bin=""
    for candidate in "$repo/.build/release/flowforge" "$repo/.build/debug/flowforge"; do
        if [[ -x $candidate ]] && has_replay "$candidate"; then
            bin=$candidate
            break
        fi
    done
    if [[ -z $bin ]]; then
        if [[ -x $repo/.build/release/flowforge || -x $repo/.build/debug/flowforge ]]; then
            fail "no flowforge build in $repo/.build has the 'replay' subcommand; rebuild (swift build, or ./scripts/install.sh)"
        else
            fail "no flowforge binary in $repo/.build/{release,debug}: run ./scripts/install.sh first"
        fi
        finish
    fi
fi
if [[ ! -x $bin ]]; then
    fail "flowforge binary '$bin' is not executable: run ./scripts/install.sh first"
    finish
fi

# Deterministic: no config file or FLOWFORGE_* setting from the caller's environment may change the replays.
while read -r var; do
    [[ -n $var ]] && unset "$var"
done < <(compgen -e | grep -E '^FLOWFORGE_' || true)

start=$(date +%s)
set +e
timeout 50 bash "$script_dir/tune_detection.sh" --bin "$bin" --recordings "$fixtures" \
    --max-cpu "70 85 95" --min-confidence "0.7 0.8 0.9" \
    --html "$tmp/tuning.html" --json "$tmp/tuning.json" >"$tmp/tune.log" 2>&1
rc=$?
set -e
elapsed=$(($(date +%s) - start))
if ((rc != 0)); then
    fail "tune_detection.sh on $fixtures exited $rc after ${elapsed}s; its output:"
    sed 's/^/    /' "$tmp/tune.log"
    finish
fi
pass "tune_detection.sh replayed $fixtures over 9 settings in ${elapsed}s"

# One line per check from the JSON summary: STATUS<TAB>message.
while IFS=$'\t' read -r status message; do
    if [[ $status == PASS ]]; then pass "$message"; else fail "$message"; fi
done < <(python3 - "$tmp/tuning.json" <<'PY'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    data = json.load(f)
r = data["recommended"]
setting = f"--max-cpu {r['max_cpu']:g} --min-confidence {r['min_conf']:g}"
if r["runaways"] >= 2 and r["healthy"] >= 3:
    print(f"PASS\tfixtures hold {r['runaways']} runaway and {r['healthy']} healthy recordings")
else:
    print(f"FAIL\tfixtures hold only {r['runaways']} runaway and {r['healthy']} healthy recordings "
          "(need at least 2 and 3)")
if r["runaways"] > 0 and r["caught"] == r["runaways"]:
    print(f"PASS\trecommended {setting} catches every runaway ({r['caught']}/{r['runaways']}, "
          f"median latency {r['median_latency'] if r['median_latency'] is None else round(r['median_latency'], 1)}s)")
else:
    print(f"FAIL\trecommended {setting} catches {r['caught']}/{r['runaways']} runaways "
          f"(missed: {', '.join(r['missed_names']) or '-'})")
if r["flagged"] == 0:
    print(f"PASS\trecommended {setting} flags no healthy recording (0/{r['healthy']})")
else:
    print(f"FAIL\trecommended {setting} flags {r['flagged']}/{r['healthy']} healthy recordings "
          f"({', '.join(r['flagged_names'])})")
PY
)

if [[ -s $tmp/tuning.html ]] && grep -q '<svg' "$tmp/tuning.html"; then
    pass "HTML report written ($(wc -c <"$tmp/tuning.html") bytes) with an <svg> chart"
else
    fail "HTML report $tmp/tuning.html missing, empty or without an <svg> chart"
fi
if ((failed > 0)); then
    echo "tune_detection.sh output:"
    sed 's/^/    /' "$tmp/tune.log"
fi
finish
