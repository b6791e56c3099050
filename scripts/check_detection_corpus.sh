#!/usr/bin/env bash
# FlowForge offline detection check (seconds, no workers run; CI runs it): replays every labelled recording in
# Tests/Fixtures/corpus with `flowforge replay` at FlowForge's default thresholds and at --max-cpu 70, and fails
# on any missed runaway or flagged healthy recording.
set -euo pipefail
unset PYTHONUNBUFFERED

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
helper="$script_dir/lib/detection_eval.py"
prog=$(basename "$0")
corpus="$repo/Tests/Fixtures/corpus"

usage() {
    cat <<EOF
Usage: $prog [--bin PATH] [--recordings DIR] [--export DIR] [--help]

Replays each recording named in DIR/labels.tsv ($corpus by default; written by
'scripts/eval_detection.sh --update-fixtures') with 'flowforge replay', once at FlowForge's default
thresholds and once with --max-cpu 70, and compares the outcome with its label:
  - a runaway recording must be detected (in any generation); the latency from its onset is reported,
  - a healthy recording must not be detected in any generation.
Prints one PASS:/FAIL: line per recording and setting (a FAIL says what was expected and the replay's
reason), then "check_detection_corpus: N passed, M failed"; exits 1 if anything failed, 2 on bad usage.

Recordings of the loghub profiles store references to the public loghub samples instead of their lines
(the samples must not be copied into the repository); they are restored from \$FLOWFORGE_LOGHUB_DIR
(default: ../shared/corpora/loghub beside the repository) and reported as SKIP: when it is absent.
Every other FLOWFORGE_* variable is unset, so the caller's environment cannot change the results.

Options:
  --bin PATH        flowforge binary with 'replay' (default: \$FLOWFORGE, else .build/release/flowforge,
                    else .build/debug/flowforge; a build without replay is skipped for the other one)
  --recordings DIR  recordings to check instead of the fixtures (a dir with *.jsonl and labels.tsv)
  --export DIR      also write the replayable recordings (loghub lines restored), labels.tsv and
                    settings.tsv to DIR, e.g. for scripts/tune_detection.sh --recordings DIR
  -h, --help        show this help
EOF
}

usage_error() {
    printf '%s: %s\n' "$prog" "$1" >&2
    printf "Try '%s --help' for more information.\n" "$prog" >&2
    exit 2
}

bin_arg=""
export_dir=""
while (($# > 0)); do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --bin|--recordings|--export)
            if (($# < 2)) || [[ -z $2 ]]; then usage_error "$1 needs a value"; fi
            case "$1" in
                --bin) bin_arg=$2 ;;
                --recordings) corpus=$2 ;;
                --export) export_dir=$2 ;;
            esac
            shift 2
            ;;
        --bin=*) bin_arg=${1#*=}; [[ -n $bin_arg ]] || usage_error "--bin needs a value"; shift ;;
        --recordings=*) corpus=${1#*=}; [[ -n $corpus ]] || usage_error "--recordings needs a value"; shift ;;
        --export=*) export_dir=${1#*=}; [[ -n $export_dir ]] || usage_error "--export needs a value"; shift ;;
        *) usage_error "unknown option '$1'" ;;
    esac
done
[[ -d $corpus ]] || usage_error "recordings directory '$corpus' does not exist"
corpus=$(cd "$corpus" && pwd)

# Deterministic: no FLOWFORGE_* setting (thresholds, FLOWFORGE_CONFIG) of the caller may change the replays.
# The loghub folder is read first: it only says where the referenced lines are (their SHA-256 is checked).
loghub_dir=${FLOWFORGE_LOGHUB_DIR:-$(cd "$repo/.." && pwd)/shared/corpora/loghub}
while read -r var; do
    [[ -n $var ]] && unset "$var"
done < <(compgen -e | grep -E '^FLOWFORGE_' || true)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

passed=0
failed=0
skipped=0
report() { # reads PASS:/FAIL:/SKIP: lines on stdin, prints and counts them
    local line
    while IFS= read -r line; do
        [[ -n $line ]] || continue
        printf '%s\n' "$line"
        case "$line" in
            PASS:*) passed=$((passed + 1)) ;;
            SKIP:*) skipped=$((skipped + 1)) ;;
            *) failed=$((failed + 1)) ;;
        esac
    done
}
finish() {
    local extra=""
    ((skipped > 0)) && extra=", $skipped skipped"
    echo "check_detection_corpus: $passed passed, $failed failed$extra"
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
            report <<<"FAIL: no flowforge build in $repo/.build has the 'replay' subcommand; rebuild (swift build, or ./scripts/install.sh)"
        else
            report <<<"FAIL: no flowforge binary in $repo/.build/{release,debug}: run ./scripts/install.sh first"
        fi
        finish
    fi
fi
if [[ ! -x $bin ]] || ! has_replay "$bin"; then
    report <<<"FAIL: flowforge binary '$bin' is not executable or has no 'replay' subcommand"
    finish
fi

# Labels against recordings; loghub references restored into $tmp/restored.
report < <(python3 "$helper" prepare "$corpus" "$tmp" --loghub-dir "$loghub_dir")
manifest="$tmp/manifest.tsv"
files=()
if [[ -f $manifest ]]; then
    while IFS=$'\t' read -r _ _ _ path; do
        files+=("$path")
    done <"$manifest"
fi
if ((${#files[@]} == 0)); then
    report <<<"FAIL: no replayable labelled recordings in $corpus"
    finish
fi
if [[ -f $corpus/settings.tsv ]] && grep -q -v -e '^#' -e '^[[:space:]]*$' "$corpus/settings.tsv"; then
    echo "note: recorded with: $(grep -v '^#' "$corpus/settings.tsv" | tr '\t\n' '  ')(replayed at the settings below)"
fi

# One replay per setting over every file; if one fails, each file on its own to say which.
settings=("defaults" "--max-cpu 70")
for setting in "${settings[@]}"; do
    flags=()
    [[ $setting == defaults ]] || read -r -a flags <<<"$setting"
    result="$tmp/replay-${setting//[^a-z0-9]/_}.jsonl"
    if ! "$bin" replay "${flags[@]}" "${files[@]}" >"$result" 2>"$tmp/replay.err"; then
        : >"$result"
        for f in "${files[@]}"; do
            if ! "$bin" replay "${flags[@]}" "$f" >>"$result" 2>"$tmp/replay-one.err"; then
                report <<<"FAIL: $(basename "$f") [$setting]: flowforge replay failed: $(head -c 300 "$tmp/replay-one.err" | tr '\n' ' ')"
            fi
        done
    fi
    report < <(python3 "$helper" compare "$manifest" "$setting" "$result")
done

if [[ -n $export_dir ]]; then
    mkdir -p "$export_dir"
    for f in "${files[@]}"; do
        cp "$f" "$export_dir/"
    done
    cp "$corpus/labels.tsv" "$export_dir/"
    [[ -f $corpus/settings.tsv ]] && cp "$corpus/settings.tsv" "$export_dir/"
    echo "exported ${#files[@]} recording(s) with labels.tsv to $export_dir"
fi
finish
