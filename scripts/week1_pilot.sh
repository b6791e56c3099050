#!/usr/bin/env bash
# FlowForge week-1 pilot: runs every workload profile in scripts/profiles under `flowforge run --shadow-mode`,
# records each run's events, and reports which runaways FlowForge caught and which healthy profiles it flagged.
set -euo pipefail
# Workers must see a user's environment, not this machine's PYTHONUNBUFFERED=1 (FlowForge sets it for the
# worker itself unless the user did).
unset PYTHONUNBUFFERED

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
helper="$script_dir/lib/tune_report.py"
# shellcheck source-path=SCRIPTDIR source=lib/profile_runs.sh
source "$script_dir/lib/profile_runs.sh"
prog=$(basename "$0")

usage() {
    cat <<EOF
Usage: $prog [--out DIR] [--only NAME]... [--profiles DIR] [--wait-quiet S] [--bin PATH] [THRESHOLD FLAGS]
       [--help]

Runs each profile (a Python worker in scripts/profiles/) under
  flowforge run --shadow-mode --events OUT/NAME.jsonl [THRESHOLD FLAGS] -- python3 PROFILE
one at a time, then writes OUT/report.md, OUT/report.tsv and OUT/labels.tsv and prints the table and a
verdict: how many runaways were caught and how many healthy profiles were (wrongly) flagged.

Why shadow mode: a week-1 pilot on real traffic must never kill anything, and a worker that keeps running
leaves a complete recording for tune_detection.sh to replay. "terminated" in the report means FlowForge
DECIDED to kill or restart the worker (a policy.decision of would_restart/would_kill, or restart/kill);
an enforce run would have done it.

Thresholds: FlowForge's defaults, except shorter windows so that runaways are found sooner (the
profiles are sized for the default windows, 30-50 s each, so the whole corpus takes about 30 minutes;
use --only for a few; scripts/eval_detection.sh measures the corpus at the defaults):
  --sustain 4 --silence 8 --sample-interval 0.5     (FlowForge defaults: 10, 30 and 1)
Any of these flags given here override them and are passed to flowforge run unchanged:
  --max-cpu PCT  --sustain S  --sample-interval S  --min-confidence X  --silence S  --min-lines N
  --repetition-threshold X  --entropy-threshold BITS  --recovery-window S  --on-runaway restart|kill|log

Options:
  --out DIR        where recordings and reports go (default: $repo/pilot-report/<timestamp>)
  --only NAME      run only this profile (file name with or without .py; repeatable, or comma-separated)
  --profiles DIR   profile directory (default: $script_dir/profiles)
  --wait-quiet S   before each profile, wait up to S seconds for the machine to be under 25% busy (other
                   work steals CPU from the profiles and skews the recordings; default 0: don't wait,
                   only report it)
  --bin PATH       flowforge binary (default: \$FLOWFORGE, else .build/release/flowforge, else
                   .build/debug/flowforge)
  -h, --help       show this help

Outputs in OUT: NAME.jsonl (events, one file per profile), logs/NAME.log (worker output and FlowForge's
messages), report.md, report.tsv, labels.tsv (recording -> label, read by tune_detection.sh),
settings.tsv (the thresholds used), runs.tsv (raw run data).

Exit status: 0 when the pilot ran (even if profiles were missed or wrongly flagged: that is what the
report is for), 1 if flowforge or python3 is missing, 2 on bad usage.
EOF
}

usage_error() {
    printf '%s: %s\n' "$prog" "$1" >&2
    printf "Try '%s --help' for more information.\n" "$prog" >&2
    exit 2
}

# Threshold flags passed through to `flowforge run`, in a stable order, with the pilot's defaults.
threshold_flags=(--max-cpu --sustain --sample-interval --min-confidence --silence --min-lines
    --repetition-threshold --entropy-threshold --recovery-window --on-runaway)
declare -A thr=([--sustain]=4 [--silence]=8 [--sample-interval]=0.5)

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
        --out|--only|--profiles|--bin|--wait-quiet) ;;
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
        --only)
            IFS=',' read -r -a names <<<"$value"
            only+=("${names[@]}")
            ;;
        *) thr[$arg]=$value ;;
    esac
done

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

# --- the profiles.
[[ -d $profiles_dir ]] || usage_error "profile directory '$profiles_dir' does not exist"
profiles_dir=$(cd "$profiles_dir" && pwd)
profiles=()
for f in "$profiles_dir"/*.py; do
    [[ -e $f ]] && profiles+=("$f")
done
((${#profiles[@]} > 0)) || usage_error "no *.py profiles in $profiles_dir"
if ((${#only[@]} > 0)); then
    selected=()
    for name in "${only[@]}"; do
        name=${name%.py}
        [[ -f $profiles_dir/$name.py ]] || usage_error "no profile '$name' in $profiles_dir"
        selected+=("$profiles_dir/$name.py")
    done
    profiles=("${selected[@]}")
fi

# --- the flags for flowforge run, validated by flowforge itself before anything runs.
thr_args=()
for f in "${threshold_flags[@]}"; do
    if [[ -n ${thr[$f]:-} ]]; then
        thr_args+=("$f" "${thr[$f]}")
    fi
done
set +e
check_output=$("$bin" run --shadow-mode --log-level error "${thr_args[@]}" -- true 2>&1)
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

# --- output dir.
if [[ -z $out ]]; then
    out="$repo/pilot-report/$(date +%Y%m%d-%H%M%S)"
fi
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)

child=""
cleanup() {
    if [[ -n $child ]]; then
        # Only the flowforge run we started (through timeout); it tears the worker's tree down itself.
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
        child=""
    fi
}
on_signal() {
    echo >&2
    echo "$prog: interrupted; stopping the running profile" >&2
    cleanup || true
    exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

{
    printf 'started\t%s\n' "$(date '+%Y-%m-%d %H:%M:%S %z')"
    printf 'binary\t%s\n' "$bin"
    printf 'git\t%s\n' "$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
    printf 'host\t%s cores, load %s\n' "$(nproc 2>/dev/null || echo '?')" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
} >"$out/pilot-info.tsv"
{
    echo "# flag	value (thresholds passed to flowforge run by week1_pilot.sh; flags not listed had FlowForge's defaults)"
    for ((i = 0; i < ${#thr_args[@]}; i += 2)); do
        printf '%s\t%s\n' "${thr_args[i]}" "${thr_args[i + 1]}"
    done
} >"$out/settings.tsv"
printf 'profile\tfile\trecording\tlabel\tduration\texit_code\tload_start\tbusy_percent_before\tmachine_cpu_percent\twall_seconds\n' \
    >"$out/runs.tsv"
cores=$(nproc 2>/dev/null || echo 1)

# What the runs get besides the flags above: a config file or FLOWFORGE_* variables apply too (the flags win).
{
    echo "# flowforge config show, before the pilot's command-line flags (${thr_args[*]}) are applied"
    "$bin" config show 2>&1 || echo "(this flowforge has no 'config show')"
} >"$out/effective-config.txt"
env_settings=$(compgen -e | grep -E '^FLOWFORGE_' | grep -v -E '^FLOWFORGE_(TEST_|DRILL_)' | tr '\n' ' ' || true)

total=${#profiles[@]}
echo "FlowForge week-1 pilot (shadow mode: nothing is killed) with $bin"
echo "thresholds: ${thr_args[*]}  (others: FlowForge defaults, or your config file/FLOWFORGE_* variables)"
if [[ -n $env_settings ]]; then
    echo "note: set in your environment and applied to every run (the flags above win): $env_settings"
fi
echo "recordings and report: $out"
echo

index=0
for profile in "${profiles[@]}"; do
    index=$((index + 1))
    file=$(basename "$profile")
    name=${file%.py}
    label=$(header_value "$profile" label)
    duration=$(header_value "$profile" duration)
    # A file without a label header is a helper module (ffprofile.py), not a profile.
    [[ -z $label ]] && continue
    if [[ $label != runaway && $label != healthy ]]; then
        echo "[$index/$total] $name: skipped: its '# label:' header must be runaway or healthy (got '$label')" >&2
        continue
    fi
    [[ $duration =~ ^[0-9]+([.][0-9]+)?$ ]] || duration=20
    limit=$(awk -v d="$duration" 'BEGIN { printf "%d", d + 30 }')
    load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
    busy_pct=$(machine_busy_percent || echo 0)
    if ((wait_quiet > 0 && ${busy_pct:-0} > 25)); then
        printf '[%d/%d] %s: machine %s%% busy, waiting up to %ss for it to quiet down\n' "$index" "$total" "$name" \
            "$busy_pct" "$wait_quiet"
        deadline=$((SECONDS + wait_quiet))
        while ((${busy_pct:-0} > 25 && SECONDS < deadline)); do
            busy_pct=$(machine_busy_percent || echo 0)
        done
    fi
    busy=""
    if ((${busy_pct:-0} > 25)); then
        busy=" [machine ${busy_pct}% busy before the start: the profile competes for CPU]"
    fi
    printf '[%d/%d] %s (%s, ~%ss)%s ... ' "$index" "$total" "$name" "$label" "$duration" "$busy"

    recording="$out/$name.jsonl"
    rm -f "$recording" # --events appends
    start_s=$(date +%s.%N)
    totals_before=$(cpu_totals)
    # timeout(1) ends a profile that overstays its duration (it sends SIGTERM to flowforge, which tears
    # the tree down); the run is in the background so an interrupt of this script can stop it.
    timeout -k 10 "$limit" "$bin" run --shadow-mode --events "$recording" --log-level warn "${thr_args[@]}" \
        -- python3 "$profile" </dev/null >"$out/logs/$name.log" 2>&1 &
    child=$!
    set +e
    wait "$child"
    rc=$?
    set -e
    child=""
    # CPU the whole machine used during the run, percent of one core (the worker's own share included).
    machine_cpu=$(busy_between "$totals_before" "$(cpu_totals)" $((100 * cores)))
    wall=$(awk -v a="$start_s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$file" "$name.jsonl" "$label" "$duration" "$rc" \
        "$load" "$busy_pct" "$machine_cpu" "$wall" >>"$out/runs.tsv"

    if [[ ! -s $recording ]]; then
        echo "no events recorded (exit $rc; see $out/logs/$name.log)"
        continue
    fi
    outcome="" latency="" peak="" confidence="" mean_cpu=""
    IFS=$'\t' read -r outcome latency peak confidence _ mean_cpu _ < <(python3 "$helper" summarize "$recording") || true
    if [[ $outcome == terminated ]]; then
        result="terminated after ${latency}s (confidence $confidence, peak CPU ${peak}%)"
        if [[ $label == runaway ]]; then result+=" - caught"; else result+=" - FALSE POSITIVE"; fi
    else
        result="not terminated (peak CPU ${peak}%, max confidence $confidence)"
        if [[ $label == runaway ]]; then result+=" - MISSED"; else result+=" - ok"; fi
    fi
    other=$(awk -v m="$machine_cpu" -v w="$mean_cpu" 'BEGIN { if (w == "-") w = 0; printf "%d", m - w }')
    if ((other > 30)); then
        result+=" [other work used ~${other}% of a core meanwhile: CPU readings skewed]"
    fi
    if ((rc == 124 || rc == 137)); then
        result+=" (overran ${limit}s; stopped)"
    elif ((rc != 0)); then
        result+=" (exit $rc)"
    fi
    echo "$result"
done

echo
python3 "$helper" pilot "$out"
echo
echo "Report: $out/report.md (also report.tsv; recordings + labels.tsv for ./scripts/tune_detection.sh --recordings $out)"
