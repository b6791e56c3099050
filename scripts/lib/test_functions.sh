#!/usr/bin/env bash
# Shared helpers for the FlowForge recovery drills: markers, /proc scans, bounded waits,
# reaper start/stop, helper (agent/spawner) lookup, the cleanup trap and PASS/FAIL output.
# shellcheck shell=bash
#
# Sourced by scripts/recovery_drill.sh and scripts/drills/drill_*.sh; it sets no shell
# options itself (the callers run with `set -euo pipefail`).
#
# Conventions
#   * Times are integer milliseconds (arguments named *_ms).
#   * Processes are read through scripts/lib/proc.sh (shared with bench/lib.sh): "live",
#     PID reuse and the marker variables are defined there.
#   * Drill exit codes: 0 PASS, 1 FAIL (the guarantee was violated), 2 ERROR (the drill
#     could not set up its precondition, so the run proves nothing either way).
#   * Survivors are found by the exact environment entry FLOWFORGE_DRILL_MARKER=<marker>,
#     which start_reaper puts into the worker's environment only (via env(1)), so the
#     reaper and its agents do not carry it.  The reaper itself is started with
#     FLOWFORGE_DRILL_SCOPE=<marker> (inherited by its helpers and the worker tree), used
#     only by the cleanup trap to SIGKILL everything the drill started.  When the runner
#     sets FLOWFORGE_DRILL_RUN=<tag>, that is passed to the reaper too, so the runner can
#     sweep leftovers of a drill that was itself killed.

if [[ -n "${FF_TEST_FUNCTIONS_LOADED:-}" ]]; then
  return 0
fi
FF_TEST_FUNCTIONS_LOADED=1

FF_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/proc.sh
source "$FF_LIB_DIR/proc.sh"
FF_REPO_ROOT=$(cd "$FF_LIB_DIR/../.." && pwd)
FF_DEFAULT_BIN="$FF_REPO_ROOT/.build/debug/flowforge"

readonly FF_EXIT_PASS=0
readonly FF_EXIT_FAIL=1
readonly FF_EXIT_ERROR=2

# Poll interval for every bounded loop (seconds, for sleep(1)).
FF_POLL_INTERVAL=0.05

# Per-drill state, filled in by drill_init / start_reaper.
FF_DRILL_NAME=""
FF_MARKER=""
FF_TMP=""
REAPER_PID=""
FF_REAPER_REAPED=0
FF_REAPER_RC=""
FF_REAPER_EXIT_MS=""
FF_SIGNAL_SENT_MS=""
# "pid:starttime" entries of helper processes (agents, spawner) seen by the drill; the
# cleanup trap SIGKILLs those still alive with the same starttime.
FF_TRACKED_PROCS=()

# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------

log_info() {
  printf '  [%s] %s\n' "${FF_DRILL_NAME:-drill}" "$*"
}

# drill_pass [message]: print the PASS line and exit 0 (the EXIT trap cleans up).
drill_pass() {
  printf 'PASS: %s%s\n' "${FF_DRILL_NAME:-drill}" "${1:+ - $1}"
  exit "$FF_EXIT_PASS"
}

# drill_fail reason...: print why, the tail of the reaper log, and exit 1.
drill_fail() {
  printf 'FAIL: %s - %s\n' "${FF_DRILL_NAME:-drill}" "$*"
  print_reaper_log_tail
  exit "$FF_EXIT_FAIL"
}

# drill_error reason...: the precondition could not be established; exit 2.
drill_error() {
  printf 'ERROR: %s - %s\n' "${FF_DRILL_NAME:-drill}" "$*"
  print_reaper_log_tail
  exit "$FF_EXIT_ERROR"
}

print_reaper_log_tail() {
  local log="${FF_TMP:+$FF_TMP/reaper.log}"
  if [[ -n "$log" && -s "$log" ]]; then
    printf '  --- last lines of reaper stdout/stderr (%s) ---\n' "$log"
    tail -n 20 "$log" | sed 's/^/  | /'
  fi
}

# ---------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------

# now_ms: milliseconds since the epoch (from EPOCHREALTIME; locale-proof).
now_ms() {
  local t=${EPOCHREALTIME//[!0-9]/}
  printf '%s\n' "$((10#$t / 1000))"
}

# ---------------------------------------------------------------------------------------
# Marker scan (survivor detection); the /proc readers are scripts/lib/proc.sh
# ---------------------------------------------------------------------------------------

# marker_pids: PIDs of the worker tree (processes carrying FLOWFORGE_DRILL_MARKER).
marker_pids() {
  find_env_pids "$FF_MARKER_VAR=$FF_MARKER"
}

# count_lines TEXT: number of non-empty lines.
count_lines() {
  local n=0 line
  while IFS= read -r line; do
    [[ -n "$line" ]] && n=$((n + 1))
  done <<<"$1"
  printf '%s\n' "$n"
}

# wait_for_marker_count N TIMEOUT_MS: waits until at least N worker-tree processes exist.
wait_for_marker_count() {
  local want=$1 timeout_ms=$2 deadline have=0
  deadline=$(($(now_ms) + timeout_ms))
  while :; do
    have=$(count_lines "$(marker_pids)")
    ((have >= want)) && return 0
    (($(now_ms) >= deadline)) && break
    sleep "$FF_POLL_INTERVAL"
  done
  log_info "only $have of $want worker-tree processes appeared within ${timeout_ms} ms"
  return 1
}

# wait_for_no_survivors SETTLE_MS: true as soon as no worker-tree process is left; waits
# at most SETTLE_MS (SIGKILL delivery is asynchronous, so a just-killed process may need a
# few ms to disappear).  On failure, FF_SURVIVORS holds the PIDs still alive.
wait_for_no_survivors() {
  local settle_ms=$1 deadline
  deadline=$(($(now_ms) + settle_ms))
  while :; do
    FF_SURVIVORS=$(marker_pids)
    [[ -z "$FF_SURVIVORS" ]] && return 0
    (($(now_ms) >= deadline)) && return 1
    sleep "$FF_POLL_INTERVAL"
  done
}

# describe_survivors [LIMIT]: prints one line per PID in FF_SURVIVORS (default 10).
describe_survivors() {
  local limit=${1:-10} n=0 total pid
  total=$(count_lines "$FF_SURVIVORS")
  while IFS= read -r pid; do
    [[ -n "$pid" ]] || continue
    n=$((n + 1))
    ((n > limit)) && break
    printf '    survivor: %s\n' "$(proc_describe "$pid")"
  done <<<"$FF_SURVIVORS"
  if ((total > limit)); then
    printf '    ... and %s more\n' "$((total - limit))"
  fi
}

# expect_no_survivors CONTEXT [SETTLE_MS]: drill_fail unless the worker tree is empty.
expect_no_survivors() {
  local context=$1 settle_ms=${2:-1000} n
  if ! wait_for_no_survivors "$settle_ms"; then
    n=$(count_lines "$FF_SURVIVORS")
    describe_survivors 10
    drill_fail "$n process(es) of the worker tree still alive ${settle_ms} ms after $context"
  fi
}

# ---------------------------------------------------------------------------------------
# Bounded waits
# ---------------------------------------------------------------------------------------

# wait_for_file PATH TIMEOUT_MS [WATCH_PID]: polls every 50 ms until PATH exists (and is
# non-empty).  Returns 1 on timeout, or as soon as WATCH_PID (e.g. the reaper) is gone.
wait_for_file() {
  local path=$1 timeout_ms=$2 watch_pid=${3:-} deadline
  deadline=$(($(now_ms) + timeout_ms))
  while :; do
    [[ -s "$path" ]] && return 0
    if [[ -n "$watch_pid" ]] && ! proc_is_live "$watch_pid"; then
      log_info "process $watch_pid exited while waiting for $path"
      return 1
    fi
    (($(now_ms) >= deadline)) && break
    sleep "$FF_POLL_INTERVAL"
  done
  log_info "timed out after ${timeout_ms} ms waiting for $path"
  return 1
}

# wait_for_exit PID TIMEOUT_MS [STARTTIME]: polls until PID is gone or a zombie (or has
# another start time).  Returns 1 on timeout.
wait_for_exit() {
  local pid=$1 timeout_ms=$2 starttime=${3:-} deadline
  deadline=$(($(now_ms) + timeout_ms))
  while proc_is_live "$pid" "$starttime"; do
    (($(now_ms) >= deadline)) && return 1
    sleep "$FF_POLL_INTERVAL"
  done
  return 0
}

# wait_for_refs_gone TIMEOUT_MS REF...: waits until none of the pid:starttime refs is
# live.  On timeout returns 1 and leaves the live ones in FF_LIVE_REFS.
wait_for_refs_gone() {
  local timeout_ms=$1 deadline ref
  shift
  deadline=$(($(now_ms) + timeout_ms))
  while :; do
    FF_LIVE_REFS=()
    for ref in "$@"; do
      if proc_ref_is_live "$ref"; then
        FF_LIVE_REFS+=("$ref")
      fi
    done
    ((${#FF_LIVE_REFS[@]} == 0)) && return 0
    (($(now_ms) >= deadline)) && return 1
    sleep "$FF_POLL_INTERVAL"
  done
}

# file_line_count PATH: number of lines in PATH (0 when missing).
file_line_count() {
  local n
  n=$(wc -l <"$1" 2>/dev/null) || n=0
  printf '%s\n' "$((n + 0))"
}

# wait_for_growth PATH MIN_NEW_LINES TIMEOUT_MS: true once PATH gained MIN_NEW_LINES lines.
wait_for_growth() {
  local path=$1 min_new=$2 timeout_ms=$3 start deadline now_n
  start=$(file_line_count "$path")
  deadline=$(($(now_ms) + timeout_ms))
  while :; do
    now_n=$(file_line_count "$path")
    ((now_n - start >= min_new)) && return 0
    (($(now_ms) >= deadline)) && break
    sleep "$FF_POLL_INTERVAL"
  done
  log_info "$path grew by $((now_n - start)) line(s) in ${timeout_ms} ms (wanted $min_new)"
  return 1
}

# ---------------------------------------------------------------------------------------
# Reaper and helper processes
# ---------------------------------------------------------------------------------------

# reaper_children PID: prints the live children of PID (proc_children).
reaper_children() {
  proc_children "$1"
}

# find_agent_pid REAPER_PID NAME: prints the first live child of the reaper whose argv[0]
# basename is NAME (flowforge-detector, flowforge-api).  Returns 1 if there is none.
find_agent_pid() {
  local reaper=$1 name=$2 child
  while IFS= read -r child; do
    [[ -n "$child" ]] || continue
    if [[ "$(proc_argv0_base "$child" 2>/dev/null || true)" == "$name" ]]; then
      printf '%s\n' "$child"
      return 0
    fi
  done <<<"$(reaper_children "$reaper")"
  return 1
}

# find_spawner_pid REAPER_PID: the child "flowforge-reaper ... --role=spawner".
find_spawner_pid() {
  local reaper=$1 child arg
  while IFS= read -r child; do
    [[ -n "$child" ]] || continue
    proc_argv "$child" || continue
    [[ "${PROC_ARGV[0]##*/}" == "flowforge-reaper" ]] || continue
    for arg in "${PROC_ARGV[@]:1}"; do
      if [[ "$arg" == "--role=spawner" ]]; then
        printf '%s\n' "$child"
        return 0
      fi
    done
  done <<<"$(reaper_children "$reaper")"
  return 1
}

# wait_for_agent REAPER_PID NAME TIMEOUT_MS [EXCLUDE_REF]: polls until a child with that
# argv[0] exists whose pid:starttime differs from EXCLUDE_REF; prints its ref.
wait_for_agent() {
  local reaper=$1 name=$2 timeout_ms=$3 exclude=${4:-} deadline pid ref
  deadline=$(($(now_ms) + timeout_ms))
  while :; do
    while IFS= read -r pid; do
      [[ -n "$pid" ]] || continue
      [[ "$(proc_argv0_base "$pid" 2>/dev/null || true)" == "$name" ]] || continue
      ref=$(proc_ref "$pid") || continue
      if [[ "$ref" != "$exclude" ]]; then
        printf '%s\n' "$ref"
        return 0
      fi
    done <<<"$(reaper_children "$reaper")"
    (($(now_ms) >= deadline)) && return 1
    sleep "$FF_POLL_INTERVAL"
  done
}

# track_proc REF: remember a helper process for the cleanup trap.
track_proc() {
  FF_TRACKED_PROCS+=("$1")
}

# track_reaper_children: remember every current child of the reaper (helpers, worker).
track_reaper_children() {
  local child ref
  [[ -n "$REAPER_PID" ]] || return 0
  while IFS= read -r child; do
    [[ -n "$child" ]] || continue
    ref=$(proc_ref "$child") && track_proc "$ref"
  done <<<"$(reaper_children "$REAPER_PID")"
  return 0
}

# start_reaper [RUN_OPTION...] -- WORKER_ARGV...: starts
#   "$FLOWFORGE" run RUN_OPTION... -- env FLOWFORGE_DRILL_MARKER=<marker> WORKER_ARGV...
# in the background with stdout/stderr in $FF_TMP/reaper.log; sets REAPER_PID.
# FLOWFORGE_TEST_DISABLE, when set in the environment, is inherited by the reaper.
start_reaper() {
  local -a run_opts=()
  while (($# > 0)) && [[ "$1" != "--" ]]; do
    run_opts+=("$1")
    shift
  done
  if (($# == 0)); then
    drill_error "start_reaper: missing -- before the worker command"
  fi
  shift
  log_info "starting: $FLOWFORGE run ${run_opts[*]}${run_opts[*]:+ }-- $* (FLOWFORGE_TEST_DISABLE=${FLOWFORGE_TEST_DISABLE:-<unset>})"
  FLOWFORGE_DRILL_SCOPE="$FF_MARKER" "$FLOWFORGE" run "${run_opts[@]}" -- \
    env "FLOWFORGE_DRILL_MARKER=$FF_MARKER" "$@" >"$FF_TMP/reaper.log" 2>&1 &
  REAPER_PID=$!
  FF_REAPER_REAPED=0
  log_info "reaper pid $REAPER_PID"
}

# wait_for_ready TIMEOUT_MS: waits for $FF_TMP/ready (written by the worker tree once it
# is up); drill_error if it never appears or the reaper dies first.
wait_for_ready() {
  local timeout_ms=$1
  if ! wait_for_file "$FF_TMP/ready" "$timeout_ms" "$REAPER_PID"; then
    drill_error "worker tree did not become ready (no $FF_TMP/ready within ${timeout_ms} ms)"
  fi
}

# read_pid_file PATH: prints the first line of PATH if it is a PID.
read_pid_file() {
  local pid=""
  { read -r pid <"$1"; } 2>/dev/null || true
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  printf '%s\n' "$pid"
}

# signal_reaper SIGNAL: sends SIGNAL to the reaper and records the time (FF_SIGNAL_SENT_MS).
signal_reaper() {
  FF_SIGNAL_SENT_MS=$(now_ms)
  kill "-$1" "$REAPER_PID" 2>/dev/null || drill_error "could not send SIG$1 to reaper $REAPER_PID (already gone?)"
}

# wait_for_reaper_exit TIMEOUT_MS: waits (bounded) for the reaper to exit, then reaps it.
# Sets FF_REAPER_RC and FF_REAPER_EXIT_MS (ms since signal_reaper).  Returns 1 on timeout.
wait_for_reaper_exit() {
  local timeout_ms=$1 rc=0
  # stderr is discarded while polling: bash prints "Killed" job notices for a background
  # child that died of a signal, which is expected here (drill 07, cleanup).
  if ! wait_for_exit "$REAPER_PID" "$timeout_ms" 2>/dev/null; then
    return 1
  fi
  FF_REAPER_EXIT_MS=$(($(now_ms) - ${FF_SIGNAL_SENT_MS:-$(now_ms)}))
  # The reaper is our child and already exited (zombie or gone): wait returns at once.
  wait "$REAPER_PID" 2>/dev/null || rc=$?
  FF_REAPER_RC=$rc
  FF_REAPER_REAPED=1
  return 0
}

# stop_reaper_and_check GRACE_S: SIGTERM the reaper, require it to exit within
# GRACE_S + 5 s, then require the worker tree to be empty.
stop_reaper_and_check() {
  local grace_s=$1 limit_ms
  limit_ms=$(((grace_s + 5) * 1000))
  signal_reaper TERM
  if ! wait_for_reaper_exit "$limit_ms"; then
    FF_SURVIVORS=$(marker_pids)
    describe_survivors 10
    drill_fail "reaper $REAPER_PID did not exit within ${limit_ms} ms of SIGTERM"
  fi
  log_info "reaper exited with status $FF_REAPER_RC after ${FF_REAPER_EXIT_MS} ms"
  expect_no_survivors "the reaper exited"
  expect_reaper_status 120
}

# write_stubborn_child FILE: a shell script (argument: DIR) that ignores SIGTERM (SIG_IGN survives exec),
# writes its PID to DIR/ready, then execs sleep.
write_stubborn_child() {
  cat >"$1" <<'WORKER'
dir=$1
trap '' TERM
echo $$ >"$dir/ready.tmp" && mv "$dir/ready.tmp" "$dir/ready"
exec sleep 1000
WORKER
}

# wait_until_ignoring_term PID: waits (bounded, 5 s) until PID has exec'd sleep and ignores SIGTERM.
wait_until_ignoring_term() {
  local pid=$1 deadline
  deadline=$(($(now_ms) + 5000))
  until [[ "$(proc_argv0_base "$pid" 2>/dev/null || true)" == sleep ]] && proc_has_signal "$pid" SigIgn 15; do
    (($(now_ms) >= deadline)) && drill_error "child $pid does not ignore SIGTERM"
    sleep "$FF_POLL_INTERVAL"
  done
}

# term_and_expect_escalation GRACE_S: SIGTERM the reaper of a tree that cannot empty before the grace
# period ends, then require the reaper to exit after at least 900 ms and within GRACE_S + 2 s, with
# nothing left and status 120. Sets FF_REAPER_EXIT_MS.
term_and_expect_escalation() {
  local grace_s=$1 min_ms=900 max_ms
  max_ms=$(((grace_s + 2) * 1000))
  signal_reaper TERM
  if ! wait_for_reaper_exit $((max_ms + 5000)); then
    FF_SURVIVORS=$(marker_pids)
    describe_survivors
    drill_fail "reaper did not exit within $((max_ms + 5000)) ms of SIGTERM (grace ${grace_s} s)"
  fi
  log_info "reaper exited with status $FF_REAPER_RC after ${FF_REAPER_EXIT_MS} ms"
  expect_no_survivors "the reaper exited"
  if ((FF_REAPER_EXIT_MS < min_ms)); then
    drill_fail "reaper exited after ${FF_REAPER_EXIT_MS} ms, before the ${grace_s} s grace period could end (no escalation observed)"
  fi
  if ((FF_REAPER_EXIT_MS > max_ms)); then
    drill_fail "reaper exited after ${FF_REAPER_EXIT_MS} ms, more than grace + 2 s (${max_ms} ms)"
  fi
  expect_reaper_status 120
}

# describe_status RC: "120", or "159 (128+31: killed by SIGSYS?)" for statuses above 128.
describe_status() {
  local rc=$1 name
  if ((rc > 128 && rc < 128 + 65)); then
    name=$(kill -l "$((rc - 128))" 2>/dev/null || echo "signal $((rc - 128))")
    printf '%s (128+%s: killed by SIG%s?)\n' "$rc" "$((rc - 128))" "${name#SIG}"
  else
    printf '%s\n' "$rc"
  fi
}

# expect_reaper_status WANT: drill_fail unless the reaper exited with WANT (120 is
# the contract's status when FlowForge terminated the worker).  A reaper that crashed (e.g.
# died of a signal) may still leave nothing behind thanks to the spawner's reaper-death
# cleanup, so the tree being empty alone does not prove the shutdown path worked.
expect_reaper_status() {
  local want=$1
  if [[ "$FF_REAPER_RC" != "$want" ]]; then
    drill_fail "reaper exited with status $(describe_status "$FF_REAPER_RC") after ${FF_REAPER_EXIT_MS} ms; expected $want (FlowForge terminated the worker)"
  fi
}

# ---------------------------------------------------------------------------------------
# cgroup v2 detection
# ---------------------------------------------------------------------------------------

# cgroup_v2_writable: true when running as root and a writable cgroup v2 hierarchy with
# cgroup.kill support is available (probed by creating and removing an empty cgroup
# below this shell's own cgroup).  Sets FF_CGROUP2_MOUNT.
cgroup_v2_writable() {
  local mnt fstype opts rest own="" line probe ok=1
  FF_CGROUP2_MOUNT=""
  [[ "$(id -u)" == 0 ]] || return 1
  while read -r _ mnt fstype opts rest; do
    if [[ "$fstype" == cgroup2 && ",$opts," == *,rw,* ]]; then
      FF_CGROUP2_MOUNT=$mnt
      break
    fi
  done </proc/self/mounts
  [[ -n "$FF_CGROUP2_MOUNT" ]] || return 1
  while IFS= read -r line; do
    [[ "$line" == 0::* ]] && own=${line#0::}
  done </proc/self/cgroup
  probe="$FF_CGROUP2_MOUNT${own%/}/flowforge-drill-probe-$$-$RANDOM"
  if mkdir "$probe" 2>/dev/null; then
    [[ -e "$probe/cgroup.kill" ]] && ok=0
    rmdir "$probe" 2>/dev/null || true
  fi
  return "$ok"
}

# proc_cgroup2_path PID: prints the cgroup v2 path ("0::" line) of PID.
proc_cgroup2_path() {
  local line
  while IFS= read -r line; do
    if [[ "$line" == 0::* ]]; then
      printf '%s\n' "${line#0::}"
      return 0
    fi
  done 2>/dev/null <"/proc/$1/cgroup" || return 1
  return 1
}

# ---------------------------------------------------------------------------------------
# Drill set-up and cleanup
# ---------------------------------------------------------------------------------------

# resolve_flowforge: FLOWFORGE (env) or the default debug build; drill_error if missing.
resolve_flowforge() {
  FLOWFORGE=${FLOWFORGE:-$FF_DEFAULT_BIN}
  if [[ ! -x "$FLOWFORGE" ]]; then
    drill_error "flowforge binary not found or not executable: $FLOWFORGE (run scripts/recovery_drill.sh, or set FLOWFORGE)"
  fi
  export FLOWFORGE
}

# drill_init NAME: marker, temp dir, cleanup trap, binary lookup.
drill_init() {
  FF_DRILL_NAME=$1
  FF_MARKER=$(make_marker "$FF_DRILL_NAME")
  FF_TMP=$(mktemp -d "${TMPDIR:-/tmp}/flowforge-drill-${FF_DRILL_NAME}.XXXXXX")
  install_cleanup_trap
  resolve_flowforge
  log_info "marker FLOWFORGE_DRILL_MARKER=$FF_MARKER, temp dir $FF_TMP"
}

# remove_reaper_cgroups: removes the cgroups named after this drill's reaper
# (flowforge-<pid namespace>-<pid>-g<N>)
# that a negative control left behind; their processes were SIGKILLed above.
remove_reaper_cgroups() {
  local mount dir tries
  [[ -n "$REAPER_PID" ]] || return 0
  mount=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
  [[ -n "$mount" && -d "$mount" ]] || return 0
  for dir in "$mount/$(cgroup_owner_prefix)$REAPER_PID"-g* "$mount"/*/"$(cgroup_owner_prefix)$REAPER_PID"-g*; do
    [[ -d "$dir" ]] || continue
    for tries in 1 2 3 4 5 6 7 8 9 10; do
      rmdir "$dir" 2>/dev/null && break
      [[ -w "$dir/cgroup.kill" ]] && echo 1 >"$dir/cgroup.kill"
      sleep 0.05
      : "$tries"
    done
  done
  return 0
}

# install_cleanup_trap: on EXIT (and INT/TERM/HUP, which exit through EXIT) SIGKILL the
# reaper, its helpers and everything carrying the drill's marker; remove the temp dir.
install_cleanup_trap() {
  trap drill_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

drill_cleanup() {
  local rc=$? ref killed=0
  trap - EXIT INT TERM HUP
  set +e
  # Nothing useful goes to stderr from here on; this also hides bash's "Killed" job notices.
  exec 2>/dev/null
  if [[ -n "$REAPER_PID" && "$FF_REAPER_REAPED" == 0 ]]; then
    track_reaper_children
    kill -KILL "$REAPER_PID" 2>/dev/null
  fi
  if [[ -n "$FF_MARKER" ]]; then
    killed=$(kill_env_pids "FLOWFORGE_DRILL_MARKER=$FF_MARKER")
    killed=$((killed + $(kill_env_pids "FLOWFORGE_DRILL_SCOPE=$FF_MARKER")))
  fi
  for ref in "${FF_TRACKED_PROCS[@]}"; do
    if proc_ref_is_live "$ref"; then
      kill -KILL "${ref%%:*}" 2>/dev/null && killed=$((killed + 1))
    fi
  done
  if [[ -n "$REAPER_PID" && "$FF_REAPER_REAPED" == 0 ]]; then
    # SIGKILLed above; bounded wait so a stuck (D-state) reaper cannot hang us.
    if wait_for_exit "$REAPER_PID" 5000; then
      wait "$REAPER_PID" 2>/dev/null
    fi
    FF_REAPER_REAPED=1
  fi
  if ((killed > 0)); then
    printf '  [%s] cleanup: SIGKILLed %s leftover process(es)\n' "${FF_DRILL_NAME:-drill}" "$killed"
  fi
  remove_reaper_cgroups
  if [[ -n "$FF_TMP" && -d "$FF_TMP" && -z "${FLOWFORGE_DRILL_KEEP_TMP:-}" ]]; then
    rm -rf -- "$FF_TMP"
  fi
  exit "$rc"
}
