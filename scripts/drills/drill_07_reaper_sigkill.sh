#!/usr/bin/env bash
# Drill 07: SIGKILL the reaper itself; within 2 s its agents and the worker leader must be
# gone, and (as root with a writable cgroup v2) the whole worker tree as well.
# negative-control: reaper-death-cleanup
#
# What is required depends on the privileges the drill runs with:
#   * root with a writable cgroup v2 hierarchy that supports cgroup.kill ("strict"): the
#     reaper puts the worker into its own cgroup, so every process of the worker tree -
#     group members and the setsid escapee - must be gone within the deadline.
#   * otherwise ("basic"): only the worker leader (PDEATHSIG) and the agents (channel EOF)
#     must be gone; the spawner's process-group kill is best effort there and any
#     survivors are only reported, not counted as a failure.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/test_functions.sh
source "$script_dir/../lib/test_functions.sh"

drill_init "drill_07_reaper_sigkill"
command -v setsid >/dev/null 2>&1 || drill_error "setsid(1) is not installed"

deadline_ms=2000
if cgroup_v2_writable; then
  mode=strict
  log_info "mode strict: root and writable cgroup v2 at $FF_CGROUP2_MOUNT - the whole worker tree must go"
else
  mode=basic
  log_info "mode basic: not root or no writable cgroup v2 - only the worker leader and the agents must go"
fi

cat >"$FF_TMP/child.sh" <<'WORKER'
setsid sleep 1000 &
sleep 1000 &
wait
WORKER

cat >"$FF_TMP/worker.sh" <<'WORKER'
dir=$1
sleep 1000 &
sh "$dir/child.sh" &
echo $$ >"$dir/ready.tmp" && mv "$dir/ready.tmp" "$dir/ready"
wait
WORKER

# worker + sleep + child shell + escapee + sleep.
expected=5

start_reaper -- sh "$FF_TMP/worker.sh" "$FF_TMP"
wait_for_ready 10000
worker_pid=$(read_pid_file "$FF_TMP/ready") || drill_error "ready file holds no PID"
worker_ref=$(proc_ref "$worker_pid") || drill_error "worker $worker_pid vanished before the drill started"
wait_for_marker_count "$expected" 10000 || drill_error "worker tree did not reach $expected processes"

detector_ref=$(wait_for_agent "$REAPER_PID" flowforge-detector 5000) ||
  drill_error "no flowforge-detector child of reaper $REAPER_PID found"
api_ref=$(wait_for_agent "$REAPER_PID" flowforge-api 5000) ||
  drill_error "no flowforge-api child of reaper $REAPER_PID found"
track_proc "$detector_ref"
track_proc "$api_ref"
spawner_ref=""
if spawner_pid=$(find_spawner_pid "$REAPER_PID"); then
  spawner_ref=$(proc_ref "$spawner_pid") && track_proc "$spawner_ref"
fi
log_info "worker $worker_pid, detector ${detector_ref%%:*}, api ${api_ref%%:*}, spawner ${spawner_ref%%:*}"
log_info "cgroup v2 of the worker: $(proc_cgroup2_path "$worker_pid" || echo '?'); of this drill: $(proc_cgroup2_path $$ || echo '?')"

signal_reaper KILL
wait_for_reaper_exit 5000 || drill_error "reaper $REAPER_PID survived SIGKILL"

failures=()
# remaining_ms: what is left of the deadline counted from the reaper's SIGKILL.
remaining_ms() {
  local left=$((deadline_ms - ($(now_ms) - FF_SIGNAL_SENT_MS)))
  ((left < 0)) && left=0
  printf '%s\n' "$left"
}

if wait_for_refs_gone "$(remaining_ms)" "$detector_ref" "$api_ref"; then
  log_info "agents gone $(($(now_ms) - FF_SIGNAL_SENT_MS)) ms after the reaper's SIGKILL"
else
  failures+=("agent(s) still alive ${deadline_ms} ms after the reaper died: ${FF_LIVE_REFS[*]%%:*}")
fi
if wait_for_refs_gone "$(remaining_ms)" "$worker_ref"; then
  log_info "worker leader gone $(($(now_ms) - FF_SIGNAL_SENT_MS)) ms after the reaper's SIGKILL"
else
  failures+=("worker leader $worker_pid still alive ${deadline_ms} ms after the reaper died")
fi
if wait_for_no_survivors "$(remaining_ms)"; then
  log_info "no process of the worker tree is left"
else
  n=$(count_lines "$FF_SURVIVORS")
  describe_survivors
  if [[ "$mode" == strict ]]; then
    failures+=("$n process(es) of the worker tree still alive ${deadline_ms} ms after the reaper died (strict mode)")
  else
    log_info "basic mode: $n worker-tree process(es) left are reported only"
  fi
fi
if [[ -n "$spawner_ref" ]] && proc_ref_is_live "$spawner_ref"; then
  log_info "note: spawner ${spawner_ref%%:*} is still alive"
fi

if ((${#failures[@]} > 0)); then
  reasons=$(printf '%s; ' "${failures[@]}")
  drill_fail "${reasons%; }"
fi
drill_pass "mode $mode: agents and worker leader gone within ${deadline_ms} ms of the reaper's SIGKILL"
