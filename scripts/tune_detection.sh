#!/usr/bin/env bash
# FlowForge detection tuning: replays recorded runs (week1_pilot.sh output or your own labelled events files)
# over a --max-cpu x --min-confidence grid with `flowforge replay`, recommends a setting, writes an HTML report.
set -euo pipefail
# Workers started by --live must see a user's environment, not this machine's PYTHONUNBUFFERED=1.
unset PYTHONUNBUFFERED

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
helper="$script_dir/lib/tune_report.py"
prog=$(basename "$0")

default_cpus="50 60 70 80 85 90 95"
default_confs="0.5 0.6 0.7 0.8 0.9"

usage() {
    cat <<EOF
Usage: $prog [--recordings DIR | --live] [--max-cpu LIST] [--min-confidence LIST] [FIXED FLAGS]
       [--html PATH] [--json PATH] [--bin PATH] [--help]

Replays recorded runs with 'flowforge replay' for every --max-cpu x --min-confidence pair and prints, per
setting: runaways caught (x/N), healthy recordings flagged (y/M) and the median detection latency. Then it
recommends the setting that terminates every runaway and no healthy recording; if several do, the most
conservative one (highest min-confidence, then highest max-cpu); if none does, it says so and recommends the
one with the fewest errors, a flagged healthy recording counting as two misses.

Recordings (a directory with *.jsonl events files and labels.tsv):
  default            the newest $repo/pilot-report/*/ (written by week1_pilot.sh)
  --recordings DIR   your own, e.g. a week of real traffic recorded with
                     'flowforge run --shadow-mode --events DIR/NAME.jsonl'; labels.tsv has one line per
                     recording: 'NAME.jsonl<TAB>runaway' or 'NAME.jsonl<TAB>healthy'
  --live             record first: runs week1_pilot.sh (into --recordings DIR if given, else a new
                     pilot-report/<timestamp>), then tunes on that; --profiles DIR and --only NAME are
                     passed to the pilot

Sweep:
  --max-cpu LIST         percent values, space- or comma-separated (default: "$default_cpus")
  --min-confidence LIST  0-1 values (default: "$default_confs")

Fixed flags (held constant for every replay): --sustain S --silence S --min-lines N
  --repetition-threshold X --entropy-threshold BITS. Default: the values in the recordings' settings.tsv
  (week1_pilot.sh writes it; its recordings used --sustain 4 --silence 8), else FlowForge's defaults.
  The sample interval always comes from the recording.

Output:
  --html PATH   self-contained HTML report (default: RECORDINGS/tuning.html)
  --json PATH   also write the results as JSON (used by check_tuning.sh)
  --bin PATH    flowforge binary (default: \$FLOWFORGE, else .build/release/flowforge, else
                .build/debug/flowforge; it needs the 'replay' subcommand)
  -h, --help    show this help

Exit status: 0 when the sweep ran (whatever it found), 1 if flowforge/replay is missing or failed,
2 on bad usage or unusable recordings/labels.
EOF
}

usage_error() {
    printf '%s: %s\n' "$prog" "$1" >&2
    printf "Try '%s --help' for more information.\n" "$prog" >&2
    exit 2
}

fixed_flags=(--sustain --silence --min-lines --repetition-threshold --entropy-threshold)
declare -A fixed=()
recordings=""
live=0
cpus=$default_cpus
confs=$default_confs
html_out=""
json_out=""
bin_arg=""
pilot_args=()
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
        --live)
            ((has_inline == 0)) || usage_error "--live takes no value"
            live=1
            shift
            continue
            ;;
        --recordings|--max-cpu|--min-confidence|--html|--json|--bin|--profiles|--only) ;;
        --sustain|--silence|--min-lines|--repetition-threshold|--entropy-threshold) ;;
        *) usage_error "unknown option '$1'" ;;
    esac
    if ((has_inline == 0)); then
        (($# >= 2)) || usage_error "$arg needs a value"
        value=$2
        shift
    fi
    shift
    [[ -n $value ]] || usage_error "$arg needs a non-empty value"
    case "$arg" in
        --recordings) recordings=$value ;;
        --max-cpu) cpus=$value ;;
        --min-confidence) confs=$value ;;
        --html) html_out=$value ;;
        --json) json_out=$value ;;
        --bin) bin_arg=$value ;;
        --profiles|--only) pilot_args+=("$arg" "$value") ;;
        *)
            [[ $value =~ ^[0-9]+([.][0-9]+)?$ ]] || usage_error "$arg needs a non-negative number, got '$value'"
            fixed[$arg]=$value
            ;;
    esac
done
if ((live == 0 && ${#pilot_args[@]} > 0)); then
    usage_error "--profiles and --only only apply with --live"
fi

parse_list() { # NAME LIST -> fills the array `parsed` with the numbers in LIST; usage error on anything else
    local name=$1 item
    local -a items
    parsed=()
    IFS=', ' read -r -a items <<<"$2"
    for item in "${items[@]}"; do
        [[ -n $item ]] || continue
        [[ $item =~ ^[0-9]+([.][0-9]+)?$ ]] || usage_error "$name: '$item' is not a number"
        parsed+=("$item")
    done
    ((${#parsed[@]} > 0)) || usage_error "$name needs at least one number"
}
parsed=()
parse_list --max-cpu "$cpus"
cpu_list=("${parsed[@]}")
parse_list --min-confidence "$confs"
conf_list=("${parsed[@]}")
capacity=$((100 * $(nproc 2>/dev/null || echo 1)))
for v in "${cpu_list[@]}"; do
    awk -v v="$v" 'BEGIN { exit !(v > 0) }' || usage_error "--max-cpu values must be above 0, got '$v'"
    awk -v v="$v" -v c="$capacity" 'BEGIN { exit !(v <= c) }' ||
        usage_error "--max-cpu $v is above this machine's capacity ($capacity: 100 per core)"
done
for v in "${conf_list[@]}"; do
    awk -v v="$v" 'BEGIN { exit !(v >= 0 && v <= 1) }' || usage_error "--min-confidence values must be 0-1, got '$v'"
done

# --- the binary: --bin, $FLOWFORGE, release, debug (never built here). It must have `replay`.
has_replay() {
    "$1" replay --help 2>&1 | grep -q 'flowforge replay'
}
if [[ -n $bin_arg ]]; then
    bin=$bin_arg
elif [[ -n ${FLOWFORGE:-} ]]; then
    bin=$FLOWFORGE
elif [[ -x $repo/.build/release/flowforge ]]; then
    bin=$repo/.build/release/flowforge
    if ! has_replay "$bin" && [[ -x $repo/.build/debug/flowforge ]] && has_replay "$repo/.build/debug/flowforge"; then
        echo "$prog: note: the release build has no 'replay' yet (rebuild with ./scripts/install.sh); using the debug build" >&2
        bin=$repo/.build/debug/flowforge
    fi
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
if ! has_replay "$bin"; then
    echo "$prog: $bin has no 'replay' subcommand; rebuild it (./scripts/install.sh) or pick another with --bin" >&2
    exit 1
fi
command -v python3 >/dev/null || { echo "$prog: python3 is needed for the report" >&2; exit 1; }

# --- recordings.
if ((live == 1)); then
    live_args=(--bin "$bin" "${pilot_args[@]}")
    if [[ -n $recordings ]]; then live_args+=(--out "$recordings"); fi
    for f in "${fixed_flags[@]}"; do
        if [[ -n ${fixed[$f]:-} ]]; then live_args+=("$f" "${fixed[$f]}"); fi
    done
    echo "==> recording: week1_pilot.sh ${live_args[*]}"
    pilot_log=$(mktemp)
    set +e
    bash "$script_dir/week1_pilot.sh" "${live_args[@]}" | tee "$pilot_log"
    pilot_rc=${PIPESTATUS[0]}
    set -e
    if ((pilot_rc != 0)); then
        rm -f "$pilot_log"
        echo "$prog: week1_pilot.sh failed (exit $pilot_rc)" >&2
        exit "$pilot_rc"
    fi
    if [[ -z $recordings ]]; then
        recordings=$(sed -n 's/^recordings and report: //p' "$pilot_log" | head -n 1)
    fi
    rm -f "$pilot_log"
    echo
elif [[ -z $recordings ]]; then
    newest=""
    for d in "$repo"/pilot-report/*/; do
        if [[ -f $d/labels.tsv ]]; then newest=${d%/}; fi
    done
    if [[ -z $newest ]]; then
        echo "$prog: no recordings: $repo/pilot-report/ has no pilot run with labels.tsv." >&2
        echo "  Record one with ./scripts/week1_pilot.sh (or pass --live), or use --recordings DIR." >&2
        exit 2
    fi
    recordings=$newest
fi
[[ -d $recordings ]] || usage_error "recordings directory '$recordings' does not exist"
recordings=$(cd "$recordings" && pwd)
mapfile -t files < <(python3 "$helper" labels "$recordings" || echo "__error__")
if ((${#files[@]} == 0)) || [[ ${files[-1]} == __error__ ]]; then
    echo "$prog: cannot use the recordings in $recordings (see above)" >&2
    exit 2
fi

# --- fixed thresholds: command line, else the recordings' settings.tsv, else FlowForge's defaults.
if [[ -f $recordings/settings.tsv ]]; then
    while IFS=$'\t' read -r flag value; do
        [[ $flag == \#* || -z $flag ]] && continue
        for f in "${fixed_flags[@]}"; do
            if [[ $f == "$flag" && -z ${fixed[$f]:-} ]]; then
                fixed[$f]=$value
            fi
        done
    done <"$recordings/settings.tsv"
fi
fixed_args=()
for f in "${fixed_flags[@]}"; do
    if [[ -n ${fixed[$f]:-} ]]; then fixed_args+=("$f" "${fixed[$f]}"); fi
done
fixed_desc="${fixed_args[*]}"
[[ -n $fixed_desc ]] || fixed_desc="FlowForge's defaults (no settings.tsv in the recordings)"

[[ -n $html_out ]] || html_out="$recordings/tuning.html"
mkdir -p "$(dirname "$html_out")"
if [[ -n $json_out ]]; then mkdir -p "$(dirname "$json_out")"; fi

tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

env_settings=$(compgen -e | grep -E '^FLOWFORGE_' | grep -v -E '^FLOWFORGE_(TEST_|DRILL_)' | tr '\n' ' ' || true)
if [[ -n $env_settings ]]; then
    echo "note: flowforge replay also applies these variables from your environment (the sweep's flags win): $env_settings"
fi

n_settings=$((${#cpu_list[@]} * ${#conf_list[@]}))
echo "Tuning on ${#files[@]} recordings in $recordings"
echo "sweep: --max-cpu ${cpu_list[*]} x --min-confidence ${conf_list[*]} ($n_settings replays); fixed: $fixed_desc"
printf 'replaying '
: >"$tmp/index.tsv"
for m in "${cpu_list[@]}"; do
    for c in "${conf_list[@]}"; do
        result="$tmp/replay_${m}_${c}.jsonl"
        set +e
        "$bin" replay --max-cpu "$m" --min-confidence "$c" "${fixed_args[@]}" "${files[@]}" >"$result" 2>"$tmp/stderr"
        rc=$?
        set -e
        if ((rc != 0)); then
            echo
            echo "$prog: flowforge replay --max-cpu $m --min-confidence $c ${fixed_args[*]} failed (exit $rc):" >&2
            head -n 20 "$tmp/stderr" >&2
            exit 1
        fi
        printf '%s\t%s\t%s\n' "$m" "$c" "$result" >>"$tmp/index.tsv"
        printf '.'
    done
done
echo " done"
echo

report_args=(tune --recordings "$recordings" --index "$tmp/index.tsv" --html "$html_out" --fixed "$fixed_desc")
if [[ -n $json_out ]]; then report_args+=(--json "$json_out"); fi
if ! python3 "$helper" "${report_args[@]}"; then
    echo "$prog: could not build the report from the replay output" >&2
    exit 1
fi
echo
echo "HTML report: $html_out"
