#!/usr/bin/env bash
# Drill 06: SIGKILL the detector agent, then the API agent, while the worker runs: each must
# be respawned (new PID, same argv[0]) within 5 s and the worker must keep running untouched.
# negative-control: agent-respawn
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/test_functions.sh
source "$script_dir/../lib/test_functions.sh"

drill_init "drill_06_agent_sigkill"

respawn_ms=5000

# worker.sh DIR: appends a counter to DIR/counter every 100 ms.
cat >"$FF_TMP/worker.sh" <<'WORKER'
dir=$1
: >"$dir/counter"
echo $$ >"$dir/ready.tmp" && mv "$dir/ready.tmp" "$dir/ready"
i=0
while :; do
  i=$((i + 1))
  echo "$i" >>"$dir/counter"
  sleep 0.1
done
WORKER

start_reaper -- sh "$FF_TMP/worker.sh" "$FF_TMP"
wait_for_ready 10000
worker_pid=$(read_pid_file "$FF_TMP/ready") || drill_error "ready file holds no PID"
worker_ref=$(proc_ref "$worker_pid") || drill_error "worker $worker_pid vanished before the drill started"
counter="$FF_TMP/counter"
wait_for_growth "$counter" 3 3000 || drill_error "worker makes no progress before the drill"
log_info "worker $worker_pid is running and counting"

# check_worker CONTEXT: same worker process alive and still making progress.
check_worker() {
  if ! proc_ref_is_live "$worker_ref"; then
    drill_fail "worker $worker_pid is no longer alive $1"
  fi
  if ! wait_for_growth "$counter" 3 3000; then
    drill_fail "worker $worker_pid stopped making progress $1"
  fi
}

# kill_and_expect_respawn NAME
kill_and_expect_respawn() {
  local name=$1 old_ref new_ref t0
  old_ref=$(wait_for_agent "$REAPER_PID" "$name" 5000) ||
    drill_error "no $name child of reaper $REAPER_PID found"
  track_proc "$old_ref"
  log_info "SIGKILL $name (pid ${old_ref%%:*})"
  t0=$(now_ms)
  kill -KILL "${old_ref%%:*}" 2>/dev/null || drill_error "could not SIGKILL $name ${old_ref%%:*}"
  wait_for_refs_gone 2000 "$old_ref" || drill_error "$name ${old_ref%%:*} survived SIGKILL"
  if ! new_ref=$(wait_for_agent "$REAPER_PID" "$name" "$respawn_ms" "$old_ref"); then
    drill_fail "$name was not respawned within ${respawn_ms} ms after SIGKILL (children of the reaper: $(reaper_children "$REAPER_PID" | tr '\n' ' '))"
  fi
  track_proc "$new_ref"
  log_info "$name respawned as pid ${new_ref%%:*} after $(($(now_ms) - t0)) ms"
  check_worker "after the $name agent was SIGKILLed"
}

kill_and_expect_respawn flowforge-detector
kill_and_expect_respawn flowforge-api
check_worker "at the end of the drill"
log_info "worker $worker_pid untouched; counter at $(file_line_count "$counter") lines"

stop_reaper_and_check 5
drill_pass "both agents respawned, worker untouched, nothing left after stop"
