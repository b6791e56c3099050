#!/usr/bin/env bash
# Budget 4: teardown of a 1,000-process worker tree.
#   * a tree that honors SIGTERM is gone within 1 s of SIGTERM to the reaper (default settings);
#   * a tree that ignores SIGTERM (SIG_IGN in every process) is gone within grace + 100 ms (--grace 1).
# The tree (bench/tree.py build): the worker, 9 branches, 110 `sleep 600` leaves under each = 1,000
# processes, all carrying FLOWFORGE_DRILL_MARKER=<scope>. bench/tree.py watch waits until all 1,000 are up
# (every leaf exec'd into sleep), opens a pidfd for each, sends SIGTERM to the reaper and times the
# last exit (a zombie counts as gone), then confirms with a /proc/*/environ scan that none is left.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

usage="Usage: bench/teardown.sh [--quick] [--help]

Times SIGTERM-to-last-exit for a 1,000-process worker tree under FlowForge. Prints:
  BENCH teardown_term_1000 <ms> ms budget 1000 <PASS|OVER>
  BENCH teardown_ignore_term_1000 <ms> ms budget 1100 <PASS|OVER>   (--grace 1)
Each is the median of 3 runs (--quick: 1 run)."
bench_parse_args "$usage" "$@"
bench_init teardown

reps=3
if [[ "$BENCH_QUICK" == 1 ]]; then
  reps=1
fi
branches=9
leaves=110
tree=$((1 + branches + branches * leaves))
grace_s=1
budget_term=1000
budget_ignore=$((grace_s * 1000 + 100))

command -v python3 >/dev/null || bench_error teardown_term_1000 ms "$budget_term" "python3 is needed for the tree"

# json_field JSON NAME: the value of a flat JSON field (number, null or string), without quotes.
json_field() {
  local re="\"$2\": (\"[^\"]*\"|[^,}]*)"
  if [[ "$1" =~ $re ]]; then
    local v=${BASH_REMATCH[1]}
    v=${v#\"}
    printf '%s\n' "${v%\"}"
  fi
}

# run_once LABEL RESULT_NAME BUDGET [RUN_OPTION...] -- [BUILD_OPTION...]: one teardown; sets
# LAST_GONE_MS to the time from SIGTERM to the last exit of the tree.
run_once() {
  local label=$1 name=$2 budget=$3 out gone err ignoring
  shift 3
  local -a opts=() build_opts=()
  while (($# > 0)) && [[ "$1" != "--" ]]; do
    opts+=("$1")
    shift
  done
  shift
  build_opts=("$@")
  bench_start_reaper "$BENCH_TMP/$label.log" "${opts[@]}" -- \
    python3 "$here/tree.py" build "$branches" "$leaves" "${build_opts[@]}"
  out=$(python3 "$here/tree.py" watch "FLOWFORGE_DRILL_MARKER=$BENCH_SCOPE" "$tree" "$((branches * leaves))" \
    "$REAPER_PID" 60 $((grace_s + 15))) || true
  err=$(json_field "$out" error)
  if [[ -n "$err" ]]; then
    bench_error "$name" ms "$budget" "$label: $err (reaper log: $(tail -n 3 "$BENCH_TMP/$label.log" 2>/dev/null))"
  fi
  gone=$(json_field "$out" gone_ms)
  ignoring=$(json_field "$out" ignoring_term)
  bench_stop_reaper "$REAPER_PID" 20
  # The precondition: every process of the tree ignores SIGTERM, or none does.
  if [[ " ${build_opts[*]} " == *" --ignore-term "* ]]; then
    ((ignoring == tree)) || bench_error "$name" ms "$budget" "$label: only $ignoring of $tree processes ignored SIGTERM"
  else
    ((ignoring == 0)) || bench_error "$name" ms "$budget" "$label: $ignoring of $tree processes ignored SIGTERM"
  fi
  note "$label: tree of $(json_field "$out" tree) ($ignoring ignore SIGTERM):" \
    "last exit ${gone} ms after SIGTERM, first exit $(json_field "$out" first_exit_ms) ms," \
    "reaper exit $(json_field "$out" reaper_exit_ms) ms (status $REAPER_RC), survivors $(json_field "$out" survivors)"
  if [[ "$gone" == null || -z "$gone" ]]; then
    bench_error "$name" ms "$budget" "$label: the tree was not gone within the watch timeout"
  fi
  LAST_GONE_MS=$gone
}

term_times=()
ignore_times=()
for ((i = 1; i <= reps; i++)); do
  run_once "term-$i" teardown_term_1000 "$budget_term" --
  term_times+=("$LAST_GONE_MS")
  run_once "ignore-$i" teardown_ignore_term_1000 "$budget_ignore" --grace "$grace_s" -- --ignore-term
  ignore_times+=("$LAST_GONE_MS")
done

note "honors SIGTERM: ${term_times[*]} ms; ignores SIGTERM (grace ${grace_s} s): ${ignore_times[*]} ms"
bench_result teardown_term_1000 "$(fmt 1 "$(stats median "${term_times[@]}")")" ms "$budget_term"
bench_result teardown_ignore_term_1000 "$(fmt 1 "$(stats median "${ignore_times[@]}")")" ms "$budget_ignore"
