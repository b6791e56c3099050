#!/usr/bin/env bash
# Shared helpers for the FlowForge benchmarks (bench/*.sh): argument parsing, the binary lookup,
# starting and finding the reaper and its helpers, /proc readers, statistics, the BENCH result line
# and the cleanup trap.
# shellcheck shell=bash
#
# Conventions
#   * Every bench prints exactly one line per figure:
#       BENCH <name> <value> <unit> budget <budget> <PASS|OVER>
#     (or "... ERROR" when it could not measure). Everything else goes to stderr-ish "  #" lines.
#   * Reapers are started with FLOWFORGE_DRILL_SCOPE=<scope> in their environment (inherited by the
#     helpers and the worker); worker trees additionally carry FLOWFORGE_DRILL_MARKER=<scope> (set with
#     env(1) in the worker command only): the one marker of the tests, drills and benches
#     (scripts/lib/proc.sh). The cleanup trap SIGKILLs only processes carrying one of those exact
#     entries, the reapers it recorded, and their recorded children; then it removes the cgroups named
#     flowforge-<reaperpid>-g* of the reapers it recorded.
#   * Times are integer microseconds (variables named *_us) unless the name says otherwise.
#   * The benches never fail on a number: exit 0 when measured (PASS or OVER), 2 when they could not.

if [[ -n "${FF_BENCH_LIB_LOADED:-}" ]]; then
  return 0
fi
FF_BENCH_LIB_LOADED=1

# The machine's environment sets PYTHONUNBUFFERED=1; measure what a user's shell has.
unset PYTHONUNBUFFERED

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd "$BENCH_DIR/.." && pwd)
# The /proc readers and the marker scan, shared with the drills.
# shellcheck source=scripts/lib/proc.sh
source "$BENCH_REPO/scripts/lib/proc.sh"

BENCH_NAME=""
BENCH_SCOPE=""
BENCH_TMP=""
BENCH_QUICK=${BENCH_QUICK:-0}
# Reaper PIDs this bench started (for the kill sweep and the cgroup cleanup).
BENCH_REAPERS=()
# "pid:starttime" of helper processes seen, SIGKILLed by the cleanup trap if still alive.
BENCH_TRACKED=()
BENCH_POLL=0.05
# Set by bench_start_reaper / bench_find_helpers / bench_stop_reaper for the calling bench.
REAPER_PID=""
REAPER_RC=""

# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

# note TEXT...: a detail line (not a result).
note() {
  printf '  # [%s] %s\n' "${BENCH_NAME:-bench}" "$*"
}

# bench_le VALUE LIMIT: true when VALUE <= LIMIT (decimal numbers).
bench_le() {
  awk -v v="$1" -v l="$2" 'BEGIN { exit !(v + 0 <= l + 0) }'
}

# bench_result NAME VALUE UNIT BUDGET: prints the BENCH line with PASS (VALUE <= BUDGET) or OVER.
bench_result() {
  local name=$1 value=$2 unit=$3 budget=$4 verdict=OVER
  if bench_le "$value" "$budget"; then
    verdict=PASS
  fi
  printf 'BENCH %s %s %s budget %s %s\n' "$name" "$value" "$unit" "$budget" "$verdict"
}

# bench_error NAME UNIT BUDGET REASON...: prints an ERROR result line and exits 2.
bench_error() {
  local name=$1 unit=$2 budget=$3
  shift 3
  note "ERROR: $*"
  printf 'BENCH %s n/a %s budget %s ERROR\n' "$name" "$unit" "$budget"
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------

# bench_parse_args USAGE_TEXT "$@": handles --quick and --help; anything else is an error.
bench_parse_args() {
  local usage=$1 arg
  shift
  for arg in "$@"; do
    case "$arg" in
      --quick) BENCH_QUICK=1 ;;
      -h | --help)
        printf '%s\n' "$usage"
        printf '\nEnvironment: FLOWFORGE=path to the flowforge binary (default: %s)\n' \
          "$BENCH_REPO/.build/release/flowforge"
        exit 0
        ;;
      *)
        printf '%s: unknown option %s (see --help)\n' "$0" "$arg" >&2
        exit 2
        ;;
    esac
  done
}

# ---------------------------------------------------------------------------------------------
# Time and statistics
# ---------------------------------------------------------------------------------------------

# now_us: microseconds since the epoch (EPOCHREALTIME, locale-proof).
now_us() {
  local t=${EPOCHREALTIME//[!0-9]/}
  printf '%s\n' "$((10#$t))"
}

# stats FIELD NUMBER...: prints one statistic (median, p90, min, max, mean) of the numbers.
# Median of an even count is the mean of the two middle values; p90 is the nearest-rank value.
stats() {
  local field=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v f="$field" '
    { v[NR] = $1; s += $1 }
    END {
      if (NR == 0) { print "nan"; exit }
      if (f == "median") { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }
      else if (f == "p90") { r = int(0.9 * NR + 0.999999); if (r < 1) r = 1; print v[r] }
      else if (f == "min") { print v[1] }
      else if (f == "max") { print v[NR] }
      else if (f == "mean") { print s / NR }
    }'
}

# fmt DECIMALS EXPR: evaluates an awk arithmetic expression and prints it rounded.
fmt() {
  awk -v d="$1" "BEGIN { printf \"%.\" d \"f\n\", ($2) }"
}

# ---------------------------------------------------------------------------------------------
# The reaper and its helpers
# ---------------------------------------------------------------------------------------------

# bench_start_reaper LOG [RUN_OPTION...] -- WORKER...: starts
#   FLOWFORGE_DRILL_SCOPE=<scope> flowforge run RUN_OPTION... -- env FLOWFORGE_DRILL_MARKER=<scope> WORKER...
# in the background, stdout+stderr to LOG; sets REAPER_PID and records it.
bench_start_reaper() {
  local log=$1
  shift
  local -a opts=()
  while (($# > 0)) && [[ "$1" != "--" ]]; do
    opts+=("$1")
    shift
  done
  shift
  FLOWFORGE_DRILL_SCOPE="$BENCH_SCOPE" "$FLOWFORGE" run "${opts[@]}" -- \
    env "$FF_MARKER_VAR=$BENCH_SCOPE" "$@" >"$log" 2>&1 &
  REAPER_PID=$!
  BENCH_REAPERS+=("$REAPER_PID")
}

# bench_record_reaper PID: remember a reaper started some other way (pipelines, hyperfine).
bench_record_reaper() {
  BENCH_REAPERS+=("$1")
}

# bench_find_helpers REAPER TIMEOUT_S: waits until the spawner, both agents and the worker are
# children of REAPER; sets SPAWNER_PID DETECTOR_PID API_PID WORKER_PID. Returns 1 on timeout.
bench_find_helpers() {
  local reaper=$1 deadline child base arg ref
  deadline=$(($(now_us) + $2 * 1000000))
  while :; do
    SPAWNER_PID="" DETECTOR_PID="" API_PID="" WORKER_PID=""
    while IFS= read -r child; do
      [[ -n "$child" ]] || continue
      proc_argv "$child" || continue
      base=${PROC_ARGV[0]##*/}
      case "$base" in
        flowforge-detector) DETECTOR_PID=$child ;;
        flowforge-api) API_PID=$child ;;
        flowforge-reaper)
          for arg in "${PROC_ARGV[@]:1}"; do
            [[ "$arg" == "--role=spawner" ]] && SPAWNER_PID=$child
          done
          ;;
        *) WORKER_PID=$child ;;
      esac
    done <<<"$(proc_children "$reaper")"
    if [[ -n "$SPAWNER_PID" && -n "$DETECTOR_PID" && -n "$API_PID" && -n "$WORKER_PID" ]]; then
      for child in "$SPAWNER_PID" "$DETECTOR_PID" "$API_PID" "$WORKER_PID"; do
        ref=$(proc_ref "$child") && BENCH_TRACKED+=("$ref")
      done
      return 0
    fi
    proc_is_live "$reaper" || return 1
    (($(now_us) >= deadline)) && return 1
    sleep "$BENCH_POLL"
  done
}

# bench_stop_reaper PID TIMEOUT_S: SIGTERM, bounded wait, reap; sets REAPER_RC (the exit status,
# or "?" when PID is not a child of this shell). Not to be called in $(...): wait needs the parent.
bench_stop_reaper() {
  local pid=$1 deadline rc=0
  deadline=$(($(now_us) + $2 * 1000000))
  kill -TERM "$pid" 2>/dev/null || true
  while proc_is_live "$pid"; do
    if (($(now_us) >= deadline)); then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep "$BENCH_POLL"
  done
  wait "$pid" 2>/dev/null || rc=$?
  ((rc == 127)) && rc="?"
  # shellcheck disable=SC2034 # read by the benches that source this file
  REAPER_RC=$rc
}

# ---------------------------------------------------------------------------------------------
# Set-up and cleanup
# ---------------------------------------------------------------------------------------------

# bench_init NAME: scope, temp dir, binary, cleanup trap.
bench_init() {
  BENCH_NAME=$1
  BENCH_SCOPE=$(make_marker "ffbench-$BENCH_NAME")
  BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/flowforge-bench-$BENCH_NAME.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  FLOWFORGE=${FLOWFORGE:-$BENCH_REPO/.build/release/flowforge}
  if [[ ! -x "$FLOWFORGE" ]]; then
    note "flowforge binary not found: $FLOWFORGE (run: swift build -c release, or set FLOWFORGE)"
    exit 2
  fi
}

# cgroup2_mount: the cgroup2 mount point from /proc/self/mountinfo (empty if none).
cgroup2_mount() {
  awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } ; break } }' \
    /proc/self/mountinfo
}

# bench_remove_cgroups: removes leftover flowforge-<reaperpid>-g* cgroups of our reapers.
bench_remove_cgroups() {
  local mount own="" line pid dir tries
  mount=$(cgroup2_mount)
  [[ -n "$mount" && -d "$mount" ]] || return 0
  while IFS= read -r line; do
    [[ "$line" == 0::* ]] && own=${line#0::}
  done </proc/self/cgroup
  own=${own%/}
  for pid in "${BENCH_REAPERS[@]}"; do
    # flowforge-<pid namespace>-<reaper pid>-g<generation>: this shell's namespace is the reapers'.
    for dir in "$mount/$(cgroup_owner_prefix)$pid-g"* "$mount$own/$(cgroup_owner_prefix)$pid-g"* "$mount/"*"/$(cgroup_owner_prefix)$pid-g"*; do
      [[ -d "$dir" ]] || continue
      note "removing leftover cgroup $dir"
      for tries in 1 2 3 4 5 6 7 8 9 10; do
        rmdir "$dir" 2>/dev/null && break
        [[ -w "$dir/cgroup.kill" ]] && echo 1 >"$dir/cgroup.kill"
        sleep 0.05
        : "$tries"
      done
    done
  done
}

# bench_kill_scope: SIGKILLs (bounded rounds) every process carrying our scope or marker entry.
bench_kill_scope() {
  [[ -n "$BENCH_SCOPE" ]] || return 0
  kill_env_pids "$FF_MARKER_VAR=$BENCH_SCOPE" "$FF_SCOPE_VAR=$BENCH_SCOPE"
}

bench_cleanup() {
  local rc=$? pid ref child killed=0
  trap - EXIT INT TERM HUP
  set +e
  exec 2>/dev/null
  for pid in "${BENCH_REAPERS[@]}"; do
    if proc_is_live "$pid"; then
      while IFS= read -r child; do
        [[ -n "$child" ]] && ref=$(proc_ref "$child") && BENCH_TRACKED+=("$ref")
      done <<<"$(proc_children "$pid")"
      # Only our own reapers carry our scope entry; check before killing (PID reuse).
      if grep -qsxzF -e "$FF_SCOPE_VAR=$BENCH_SCOPE" "/proc/$pid/environ"; then
        kill -KILL "$pid" && killed=$((killed + 1))
      fi
    fi
  done
  killed=$((killed + $(bench_kill_scope)))
  for ref in "${BENCH_TRACKED[@]}"; do
    if proc_is_live "${ref%%:*}" "${ref#*:}"; then
      kill -KILL "${ref%%:*}" && killed=$((killed + 1))
    fi
  done
  for pid in "${BENCH_REAPERS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  if ((killed > 0)); then
    note "cleanup: SIGKILLed $killed leftover process(es)"
  fi
  bench_remove_cgroups
  if [[ -n "$BENCH_TMP" && -d "$BENCH_TMP" && -z "${FF_BENCH_KEEP_TMP:-}" ]]; then
    rm -rf -- "$BENCH_TMP"
  fi
  exit "$rc"
}
