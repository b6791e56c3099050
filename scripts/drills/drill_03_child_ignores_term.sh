#!/usr/bin/env bash
# Drill 03: the worker dies at once on SIGTERM but its child ignores SIGTERM; with --grace 1
# the reaper must escalate to SIGKILL (exit after >= ~1 s, <= grace + 2 s) and leave nothing.
# negative-control: escalation
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/test_functions.sh
source "$script_dir/../lib/test_functions.sh"

drill_init "drill_03_child_ignores_term"

grace_s=1
min_ms=900
max_ms=$(((grace_s + 2) * 1000))

# stubborn.sh DIR: ignores SIGTERM (SIG_IGN survives exec), reports ready, then sleeps.
cat >"$FF_TMP/stubborn.sh" <<'WORKER'
dir=$1
trap '' TERM
echo $$ >"$dir/ready.tmp" && mv "$dir/ready.tmp" "$dir/ready"
exec sleep 1000
WORKER

# worker.sh DIR: default SIGTERM disposition, so it dies at once.
cat >"$FF_TMP/worker.sh" <<'WORKER'
dir=$1
echo $$ >"$dir/worker.pid"
sh "$dir/stubborn.sh" "$dir" &
wait
WORKER

start_reaper --grace "$grace_s" -- sh "$FF_TMP/worker.sh" "$FF_TMP"
wait_for_ready 10000
stubborn_pid=$(read_pid_file "$FF_TMP/ready") || drill_error "ready file holds no PID"
wait_for_marker_count 2 10000 || drill_error "worker tree did not reach 2 processes"
# Wait (bounded) until the exec'd sleep is in place and really ignores SIGTERM.
deadline=$(($(now_ms) + 5000))
until [[ "$(proc_argv0_base "$stubborn_pid" 2>/dev/null || true)" == sleep ]] &&
  proc_has_signal "$stubborn_pid" SigIgn 15; do
  (($(now_ms) >= deadline)) && drill_error "child $stubborn_pid does not ignore SIGTERM"
  sleep "$FF_POLL_INTERVAL"
done
log_info "child $stubborn_pid ignores SIGTERM"

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
drill_pass "escalated after ${FF_REAPER_EXIT_MS} ms (window ${min_ms}-${max_ms} ms); nothing left"
