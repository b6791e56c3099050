#!/usr/bin/env bash
# FlowForge detection evaluation (live, ~30 minutes; not run in CI): runs every labelled workload profile in
# scripts/profiles under `flowforge run --on-runaway kill`, one at a time, and reports per run whether FlowForge
# stopped it, how fast, and whether anything of its process tree survived.
set -euo pipefail
# Workers must see a user's environment, not this machine's PYTHONUNBUFFERED=1 (FlowForge sets it for the
# worker itself unless told not to, which the block-buffered variants do).
unset PYTHONUNBUFFERED

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
helper="$script_dir/lib/detection_eval.py"
prog=$(basename "$0")
# shellcheck source-path=SCRIPTDIR source=lib/test_functions.sh
source "$script_dir/lib/test_functions.sh"
# shellcheck source-path=SCRIPTDIR source=lib/profile_runs.sh
source "$script_dir/lib/profile_runs.sh"

usage() {
    cat <<EOF
Usage: $prog [--only NAME]... [--buffered-only | --no-buffered] [--out DIR] [--wait-quiet S]
       [--write-doc] [--update-fixtures] [--bin PATH] [--profiles DIR] [--profile-duration S]
       [THRESHOLD FLAGS] [--list] [--help]

Runs each profile (a Python worker in scripts/profiles/ with a '# label:' header) as
  flowforge run --on-runaway kill --events OUT/recordings/VARIANT.jsonl [THRESHOLD FLAGS] \\
      -- env FLOWFORGE_DRILL_MARKER=<unique marker> python3 PROFILE
one at a time (stdout/stderr in OUT/logs/VARIANT.log), and for each runaway profile with 'buffered: yes'
(the default for runaways) a second variant NAME+buffered with FF_PROFILE_BUFFERED=1 and
--no-python-unbuffered: the worker's output then reaches FlowForge in 8 KiB blocks, as it does for a
Python worker that does not flush.

Per run it records: stopped or not (an incident.opened event) and FlowForge's exit code; the latency
(first incident.opened minus first worker.started minus the profile's onset); survivors (processes
whose environment holds the run's marker 2 s after FlowForge exited; they are killed and reported);
peak CPU and highest confidence of the sample events; and the detector's reason. A run is correct when
a runaway was stopped with no survivors (and not more than 1 s before its onset: that would be its healthy
phase), or a healthy profile was not stopped.

Thresholds: FlowForge's own defaults (none passed), unless given here; these are passed unchanged:
  --max-cpu PCT  --sustain S  --sample-interval S  --min-confidence X  --silence S  --min-lines N
  --repetition-threshold X  --entropy-threshold BITS
FLOWFORGE_* variables of the caller are unset (except FLOWFORGE_STATE_DIR and FLOWFORGE_LOGHUB_DIR) so
that they cannot change the thresholds.

Options:
  --only NAME          run only this profile (file name with or without .py, or NAME+buffered for just
                       that variant; repeatable, or comma-separated)
  --buffered-only      run only the +buffered variants
  --no-buffered        skip the +buffered variants
  --out DIR            output directory (default: $repo/pilot-report/eval-<timestamp>)
  --wait-quiet S       before each run, wait up to S seconds for the machine to be under 25% busy
                       (default 0: do not wait; the busy-ness is reported either way)
  --write-doc          also write docs/DETECTION_QUALITY.md from the results
  --update-fixtures    copy the recordings to Tests/Fixtures/corpus/ with labels.tsv and settings.tsv
                       (a partial run with --only replaces just its own recordings); loghub lines are
                       stored as references, not copied
  --bin PATH           flowforge binary (default: \$FLOWFORGE, else .build/release/flowforge, else
                       .build/debug/flowforge)
  --profiles DIR       profile directory (default: $script_dir/profiles)
  --profile-duration S run every profile S seconds instead of its own duration (FF_PROFILE_DURATION;
                       a smoke test of this script, not a measurement: refused with --write-doc and
                       --update-fixtures)
  --list               print the runs that would be made (variant, label, duration, onset) and exit
  -h, --help           show this help

Outputs in OUT: recordings/VARIANT.jsonl, logs/VARIANT.log, replay/VARIANT.json (flowforge replay of
the recording), results.tsv, report.md, eval-info.tsv, settings.tsv.

Exit status: 0 when every run was correct, 1 when any was not (or flowforge/python3 is missing),
2 on bad usage.
EOF
}

usage_error() {
    printf '%s: %s\n' "$prog" "$1" >&2
    printf "Try '%s --help' for more information.\n" "$prog" >&2
    exit 2
}

threshold_flags=(--max-cpu --sustain --sample-interval --min-confidence --silence --min-lines
    --repetition-threshold --entropy-threshold)
declare -A thr=()

is_threshold_flag() {
    local f
    for f in "${threshold_flags[@]}"; do
        [[ $f == "$1" ]] && return 0
    done
    return 1
}

out=""
profiles_dir="$script_dir/profiles"
bin_arg=""
wait_quiet=0
profile_duration=${FF_PROFILE_DURATION:-}
buffered_mode=both
write_doc=0
update_fixtures=0
list_only=0
only=()
while (($# > 0)); do
    arg=$1
    value=""
    has_inline=0
    if [[ $arg == --*=* ]]; then
        value=${arg#*=}
        arg=${arg%%=*}
        has_inline=1
    fi
    case "$arg" in
        -h|--help) usage; exit 0 ;;
        --buffered-only|--no-buffered|--write-doc|--update-fixtures|--list)
            ((has_inline == 0)) || usage_error "$arg takes no value"
            case "$arg" in
                --buffered-only)
                    [[ $buffered_mode != plain ]] || usage_error "--buffered-only and --no-buffered exclude each other"
                    buffered_mode=only
                    ;;
                --no-buffered)
                    [[ $buffered_mode != only ]] || usage_error "--buffered-only and --no-buffered exclude each other"
                    buffered_mode=plain
                    ;;
                --write-doc) write_doc=1 ;;
                --update-fixtures) update_fixtures=1 ;;
                --list) list_only=1 ;;
            esac
            shift
            continue
            ;;
        --out|--only|--profiles|--bin|--wait-quiet|--profile-duration) ;;
        *)
            if ! is_threshold_flag "$arg"; then
                usage_error "unknown option '$1'"
            fi
            ;;
    esac
    if ((has_inline == 0)); then
        (($# >= 2)) || usage_error "$arg needs a value"
        value=$2
        shift
    fi
    shift
    [[ -n $value ]] || usage_error "$arg needs a non-empty value"
    case "$arg" in
        --out) out=$value ;;
        --profiles) profiles_dir=$value ;;
        --bin) bin_arg=$value ;;
        --wait-quiet)
            [[ $value =~ ^[0-9]+$ ]] || usage_error "--wait-quiet needs whole seconds, got '$value'"
            wait_quiet=$value
            ;;
        --profile-duration) profile_duration=$value ;;
        --only)
            IFS=',' read -r -a names <<<"$value"
            only+=("${names[@]}")
            ;;
        *) thr[$arg]=$value ;;
    esac
done
if [[ -n $profile_duration ]]; then
    if ! [[ $profile_duration =~ ^[0-9]+([.][0-9]+)?$ ]] || ! awk -v d="$profile_duration" 'BEGIN { exit !(d > 0) }'; then
        usage_error "--profile-duration (or FF_PROFILE_DURATION) needs seconds above 0, got '$profile_duration'"
    fi
    if ((write_doc || update_fixtures)); then
        usage_error "--write-doc and --update-fixtures need full-length runs: drop --profile-duration/FF_PROFILE_DURATION"
    fi
fi

# The caller's FLOWFORGE_* settings must not change the thresholds; the state dir and the loghub folder
# are kept (the second is where the loghub profiles read their input).
loghub_dir=${FLOWFORGE_LOGHUB_DIR:-$(cd "$repo/.." && pwd)/shared/corpora/loghub}
while read -r var; do
    case "$var" in
        FLOWFORGE_STATE_DIR|FLOWFORGE_LOGHUB_DIR|"") ;;
        *) unset "$var" ;;
    esac
done < <(compgen -e | grep -E '^FLOWFORGE_' || true)
unset FF_PROFILE_DURATION FF_PROFILE_BUFFERED FF_LOGHUB_START FF_LOGHUB_SECONDS

# --- the profiles and their variants.
[[ -d $profiles_dir ]] || usage_error "profile directory '$profiles_dir' does not exist"
profiles_dir=$(cd "$profiles_dir" && pwd)
declare -A want_profile=() want_variant=()
for name in "${only[@]}"; do
    base=${name%+buffered}
    base=${base%.py}
    [[ -f $profiles_dir/$base.py ]] || usage_error "no profile '$base' in $profiles_dir"
    [[ -n $(header_value "$profiles_dir/$base.py" label) ]] ||
        usage_error "$profiles_dir/$base.py has no '# label:' header: not a profile"
    want_profile[$base]=1
    if [[ $name == *+buffered ]]; then
        want_variant[$base+buffered]=1
    else
        want_variant[$base]=1
        want_variant[$base+buffered]=1
    fi
done

# One entry per run: VARIANT|PROFILE FILE|LABEL|DURATION|ONSET|BUFFERED(yes/no)
runs=()
for f in "$profiles_dir"/*.py; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .py)
    label=$(header_value "$f" label)
    [[ -n $label ]] || continue # a helper module (ffprofile.py), not a profile
    if ((${#only[@]} > 0)) && [[ -z ${want_profile[$name]:-} ]]; then
        continue
    fi
    [[ $label == runaway || $label == healthy ]] ||
        usage_error "$f: '# label:' must be runaway or healthy, got '$label'"
    duration=$(header_value "$f" duration)
    [[ $duration =~ ^[0-9]+([.][0-9]+)?$ ]] || usage_error "$f: '# duration:' must be seconds, got '$duration'"
    onset=$(header_value "$f" onset)
    onset=${onset:-0}
    [[ $onset =~ ^[0-9]+([.][0-9]+)?$ ]] || usage_error "$f: '# onset:' must be seconds, got '$onset'"
    buffered=$(header_value "$f" buffered)
    if [[ -z $buffered ]]; then
        if [[ $label == runaway ]]; then buffered=yes; else buffered=no; fi
    fi
    [[ $buffered == yes || $buffered == no ]] || usage_error "$f: '# buffered:' must be yes or no, got '$buffered'"
    if [[ -n $profile_duration ]]; then
        # The same scaling as ffprofile.scaled(): an onset moves with the shortened run.
        onset=$(awk -v o="$onset" -v d="$duration" -v p="$profile_duration" 'BEGIN { printf "%g", o * p / d }')
        duration=$profile_duration
    fi
    if [[ $buffered_mode != only ]] && { ((${#only[@]} == 0)) || [[ -n ${want_variant[$name]:-} ]]; }; then
        runs+=("$name|$f|$label|$duration|$onset|no")
    fi
    if [[ $label == runaway && $buffered == yes && $buffered_mode != plain ]] &&
        { ((${#only[@]} == 0)) || [[ -n ${want_variant[$name+buffered]:-} ]]; }; then
        runs+=("$name+buffered|$f|$label|$duration|$onset|yes")
    fi
done
((${#runs[@]} > 0)) || usage_error "nothing to run (check --only, --buffered-only and the profiles' headers)"
if ((list_only)); then
    printf '%-32s %-8s %8s %6s\n' variant label duration onset
    for entry in "${runs[@]}"; do
        IFS='|' read -r variant _ label duration onset _ <<<"$entry"
        printf '%-32s %-8s %8s %6s\n' "$variant" "$label" "$duration" "$onset"
    done
    echo "${#runs[@]} run(s)"
    exit 0
fi

# --- the binary: --bin, $FLOWFORGE, release, debug (never built here).
if [[ -n $bin_arg ]]; then
    bin=$bin_arg
elif [[ -n ${FLOWFORGE:-} ]]; then
    bin=$FLOWFORGE
elif [[ -x $repo/.build/release/flowforge ]]; then
    bin=$repo/.build/release/flowforge
elif [[ -x $repo/.build/debug/flowforge ]]; then
    bin=$repo/.build/debug/flowforge
else
    echo "$prog: no flowforge binary in $repo/.build/{release,debug}: run ./scripts/install.sh first" >&2
    exit 1
fi
if [[ ! -x $bin ]]; then
    echo "$prog: flowforge binary '$bin' is not an executable file: run ./scripts/install.sh first" >&2
    exit 1
fi
command -v python3 >/dev/null || { echo "$prog: python3 is needed to run the profiles" >&2; exit 1; }
command -v setsid >/dev/null || { echo "$prog: setsid (util-linux) is needed to run each flowforge in its own process group" >&2; exit 1; }

# --- the threshold flags, validated by flowforge itself before anything runs.
thr_args=()
for f in "${threshold_flags[@]}"; do
    if [[ -n ${thr[$f]:-} ]]; then
        thr_args+=("$f" "${thr[$f]}")
    fi
done
set +e
check_output=$("$bin" run --log-level error "${thr_args[@]}" -- true 2>&1)
check_rc=$?
set -e
if ((check_rc == 64 || check_rc == 100)); then
    printf '%s\n' "$check_output" | head -n 3 >&2
    usage_error "flowforge rejected the threshold flags: ${thr_args[*]}"
elif ((check_rc != 0)); then
    printf '%s\n' "$check_output" >&2
    echo "$prog: '$bin run -- true' failed (exit $check_rc); is FlowForge installed correctly?" >&2
    exit 1
fi
has_replay=0
if "$bin" replay --help 2>&1 | grep -q 'flowforge replay'; then
    has_replay=1
fi

# --- fixtures: a partial update must use the thresholds the other fixtures were recorded with.
fixtures_dir="$repo/Tests/Fixtures/corpus"
settings_text() {
    echo "# flag	value (thresholds passed to flowforge run by eval_detection.sh; flags not listed had FlowForge's defaults)"
    local i
    for ((i = 0; i < ${#thr_args[@]}; i += 2)); do
        printf '%s\t%s\n' "${thr_args[i]}" "${thr_args[i + 1]}"
    done
}
partial=0
if ((${#only[@]} > 0)) || [[ $buffered_mode != both ]]; then
    partial=1
fi
if ((update_fixtures && partial)) && [[ -f $fixtures_dir/settings.tsv ]]; then
    if ! diff -q <(grep -v '^#' "$fixtures_dir/settings.tsv") <(settings_text | grep -v '^#') >/dev/null; then
        usage_error "the fixtures in $fixtures_dir were recorded with other thresholds ($(grep -v '^#' \
            "$fixtures_dir/settings.tsv" | tr '\t\n' '  ')); a partial --update-fixtures must use the same ones"
    fi
fi

# --- output dir.
if [[ -z $out ]]; then
    out="$repo/pilot-report/eval-$(date +%Y%m%d-%H%M%S)"
fi
mkdir -p "$out/recordings" "$out/logs" "$out/replay"
out=$(cd "$out" && pwd)
# A partial run (--only) into an earlier OUT replaces its own rows and keeps the others, so one profile can be
# re-run and the report and fixtures rewritten from the whole set.
((partial)) || rm -f "$out/results.tsv"

# --- the run in progress, for the cleanup trap: only what this script started.
ff_pid=""
ff_marker=""
stop_flowforge() { # TERM the flowforge we started (it tears its worker tree down), then KILL its group
    local pid=$ff_pid deadline
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$(($(now_ms) + 10000))
    while proc_is_live "$pid" && (($(now_ms) < deadline)); do
        sleep 0.2
    done
    # setsid made flowforge the leader of its own process group (its agents are in it too).
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    if [[ -n $ff_pid ]]; then
        stop_flowforge
        wait "$ff_pid" 2>/dev/null
        ff_pid=""
    fi
    if [[ -n $ff_marker ]]; then
        local n
        n=$(kill_env_pids "FLOWFORGE_DRILL_MARKER=$ff_marker" 2>/dev/null || echo 0)
        if [[ ${n:-0} != 0 ]]; then
            echo "$prog: cleanup: killed $n leftover process(es) of the interrupted run" >&2
        fi
        ff_marker=""
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo >&2; echo "$prog: interrupted; stopping the running profile" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- bookkeeping.
args_text=""
for a in "${thr_args[@]}"; do args_text+=" $a"; done
((${#only[@]} > 0)) && args_text+=" --only $(IFS=,; echo "${only[*]}")"
[[ $buffered_mode == only ]] && args_text+=" --buffered-only"
[[ $buffered_mode == plain ]] && args_text+=" --no-buffered"
((wait_quiet > 0)) && args_text+=" --wait-quiet $wait_quiet"
{
    printf 'started\t%s\n' "$(date '+%Y-%m-%d %H:%M:%S %z')"
    printf 'binary\t%s\n' "$bin"
    printf 'git\t%s\n' "$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
    printf 'host\t%s cores, load %s at the start\n' "$(nproc 2>/dev/null || echo '?')" \
        "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
    printf 'thresholds\t%s\n' "${thr_args[*]}"
    printf 'args\t%s\n' "$args_text"
    printf 'profile_duration\t%s\n' "$profile_duration"
} >"$out/eval-info.tsv"
settings_text >"$out/settings.tsv"
{
    echo "# flowforge config show, before the command-line flags (${thr_args[*]}) are applied"
    "$bin" config show 2>&1 || echo "(this flowforge has no 'config show')"
} >"$out/effective-config.txt"
cores=$(nproc 2>/dev/null || echo 1)

total=${#runs[@]}
echo "FlowForge detection evaluation with $bin"
echo "thresholds: ${thr_args[*]:-FlowForge defaults}"
if [[ -n $profile_duration ]]; then
    echo "note: every profile runs ${profile_duration}s (--profile-duration/FF_PROFILE_DURATION): a smoke test, not a measurement"
fi
echo "$total run(s); recordings and report: $out"
echo

index=0
wrong=0
for entry in "${runs[@]}"; do
    IFS='|' read -r variant profile label duration onset buffered <<<"$entry"
    index=$((index + 1))
    limit_ms=$(awk -v d="$duration" 'BEGIN { printf "%d", (d + 30) * 1000 }')

    busy_pct=$(machine_busy_percent || echo 0)
    if ((wait_quiet > 0 && ${busy_pct:-0} > 25)); then
        printf '[%d/%d] %s: machine %s%% busy, waiting up to %ss for it to quiet down\n' "$index" "$total" \
            "$variant" "$busy_pct" "$wait_quiet"
        deadline=$((SECONDS + wait_quiet))
        while ((${busy_pct:-0} > 25 && SECONDS < deadline)); do
            busy_pct=$(machine_busy_percent || echo 0)
        done
    fi
    busy_note=""
    if ((${busy_pct:-0} > 25)); then
        busy_note=" [machine ${busy_pct}% busy before the start]"
    fi
    printf '[%d/%d] %s (%s, %ss)%s ... ' "$index" "$total" "$variant" "$label" "$duration" "$busy_note"

    recording="$out/recordings/$variant.jsonl"
    log="$out/logs/$variant.log"
    rm -f "$recording" "$out/replay/$variant.json" # --events appends
    ff_marker=$(make_marker "eval-${variant//+/-}")
    run_opts=(run --on-runaway kill --events "$recording" "${thr_args[@]}")
    worker_env=("FLOWFORGE_DRILL_MARKER=$ff_marker")
    if [[ $buffered == yes ]]; then
        run_opts+=(--no-python-unbuffered)
        worker_env+=(FF_PROFILE_BUFFERED=1)
    fi
    if [[ -n $profile_duration ]]; then
        worker_env+=("FF_PROFILE_DURATION=$profile_duration")
    fi

    start_ms=$(now_ms)
    totals_before=$(cpu_totals)
    # Its own process group (setsid), so a run that overstays can be killed as a whole.
    setsid "$bin" "${run_opts[@]}" -- env "${worker_env[@]}" python3 "$profile" </dev/null >"$log" 2>&1 &
    ff_pid=$!
    timed_out=0
    while proc_is_live "$ff_pid"; do
        if (($(now_ms) - start_ms > limit_ms)); then
            timed_out=1
            stop_flowforge
            break
        fi
        sleep 0.2
    done
    rc=0
    wait "$ff_pid" 2>/dev/null || rc=$?
    ff_pid=""
    machine_cpu=$(busy_between "$totals_before" "$(cpu_totals)" $((100 * cores)))
    wall=$(awk -v a="$start_ms" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')

    # Survivors: whatever still carries this run's marker 2 s after flowforge exited.
    sleep 2
    survivor_pids=$(find_env_pids "FLOWFORGE_DRILL_MARKER=$ff_marker" | tr '\n' ' ')
    survivor_pids=${survivor_pids% }
    survivors=0
    if [[ -n $survivor_pids ]]; then
        read -r -a spids <<<"$survivor_pids"
        survivors=${#spids[@]}
        {
            echo "--- eval_detection.sh: $survivors process(es) survived flowforge's exit by 2 s; killed:"
            for pid in "${spids[@]}"; do
                proc_describe "$pid"
            done
        } >>"$log"
        kill -KILL "${spids[@]}" 2>/dev/null || true
    fi
    ff_marker=""

    replay_file=""
    if ((has_replay)) && [[ -s $recording ]]; then
        replay_file="$out/replay/$variant.json"
        "$bin" replay "${thr_args[@]}" "$recording" >"$replay_file" 2>>"$log" || true
    fi
    set +e
    python3 "$helper" result "$out" --variant "$variant" --profile "$(basename "$profile")" --label "$label" \
        --buffered "$buffered" --duration "$duration" --onset "$onset" --exit-code "$rc" \
        --timed-out "$timed_out" --survivors "$survivors" --survivor-pids "$survivor_pids" \
        --busy-before "$busy_pct" --machine-cpu "$machine_cpu" --wall "$wall" --replay "$replay_file"
    result_rc=$?
    set -e
    if ((result_rc == 3)); then
        wrong=$((wrong + 1))
    elif ((result_rc != 0)); then
        echo "$prog: could not summarize $recording (helper exit $result_rc)" >&2
        wrong=$((wrong + 1))
    fi
done

echo
doc_args=()
if ((write_doc)); then
    doc_args=(--doc "$repo/docs/DETECTION_QUALITY.md")
fi
set +e
python3 "$helper" report "$out" "${doc_args[@]}"
report_rc=$?
set -e
if ((update_fixtures)); then
    fixture_args=()
    ((partial)) && fixture_args+=(--partial)
    python3 "$helper" fixtures "$out" "$fixtures_dir" --profiles "$profiles_dir" --loghub-dir "$loghub_dir" \
        "${fixture_args[@]}"
    echo "Fixtures: $fixtures_dir (check them with: bash scripts/check_detection_corpus.sh)"
fi
echo
echo "Report: $out/report.md (raw: results.tsv)"
((write_doc)) && echo "Wrote $repo/docs/DETECTION_QUALITY.md"
if ((wrong > 0 || report_rc != 0)); then
    exit 1
fi
exit 0
