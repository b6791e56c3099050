#!/usr/bin/env bash
# Drill 04: the worker traps SIGTERM, forwards it to a child that ignores it and keeps
# waiting for that child; with --grace 1 the reaper must still escalate and leave nothing.
# negative-control: escalation
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/test_functions.sh
source "$script_dir/../lib/test_functions.sh"

drill_init "drill_04_forwarding_worker"

grace_s=1
min_ms=900
max_ms=$(((grace_s + 2) * 1000))

cat >"$FF_TMP/stubborn.sh" <<'WORKER'
dir=$1
trap '' TERM
echo $$ >"$dir/ready.tmp" && mv "$dir/ready.tmp" "$dir/ready"
exec sleep 1000
WORKER

# worker.sh DIR: forwards SIGTERM to the child and waits for it as long as it lives.
cat >"$FF_TMP/worker.sh" <<'WORKER'
dir=$1
child=""
trap 'echo "worker $$: forwarding SIGTERM to $child" >&2; [ -n "$child" ] && kill -TERM "$child"' TERM
echo $$ >"$dir/worker.pid"
sh "$dir/stubborn.sh" "$dir" &
child=$!
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
done
WORKER

start_reaper --grace "$grace_s" -- sh "$FF_TMP/worker.sh" "$FF_TMP"
wait_for_ready 10000
stubborn_pid=$(read_pid_file "$FF_TMP/ready") || drill_error "ready file holds no PID"
worker_pid=$(read_pid_file "$FF_TMP/worker.pid") || drill_error "worker.pid holds no PID"
wait_for_marker_count 2 10000 || drill_error "worker tree did not reach 2 processes"
deadline=$(($(now_ms) + 5000))
until [[ "$(proc_argv0_base "$stubborn_pid" 2>/dev/null || true)" == sleep ]] &&
  proc_has_signal "$stubborn_pid" SigIgn 15; do
  (($(now_ms) >= deadline)) && drill_error "child $stubborn_pid does not ignore SIGTERM"
  sleep "$FF_POLL_INTERVAL"
done
proc_has_signal "$worker_pid" SigCgt 15 || drill_error "worker $worker_pid does not trap SIGTERM"
log_info "worker $worker_pid traps SIGTERM; child $stubborn_pid ignores it"

signal_reaper TERM
if ! wait_for_reaper_exit $((max_ms + 5000)); then
  FF_SURVIVORS=$(marker_pids)
  describe_survivors
  drill_fail "reaper did not exit within $((max_ms + 5000)) ms of SIGTERM (grace ${grace_s} s)"
fi
log_info "reaper exited with status $FF_REAPER_RC after ${FF_REAPER_EXIT_MS} ms"
if grep -q "forwarding SIGTERM" "$FF_TMP/reaper.log" 2>/dev/null; then
  log_info "the worker forwarded SIGTERM to its child (seen in the worker's stderr)"
fi

expect_no_survivors "the reaper exited"
# The child ignores SIGTERM, so the tree cannot empty before the grace period ends.
if ((FF_REAPER_EXIT_MS < min_ms)); then
  drill_fail "reaper exited after ${FF_REAPER_EXIT_MS} ms, before the ${grace_s} s grace period could end (no escalation observed)"
fi
if ((FF_REAPER_EXIT_MS > max_ms)); then
  drill_fail "reaper exited after ${FF_REAPER_EXIT_MS} ms, more than grace + 2 s (${max_ms} ms)"
fi
expect_reaper_status 120
drill_pass "forwarding worker and stubborn child gone after ${FF_REAPER_EXIT_MS} ms"
