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

write_stubborn_child "$FF_TMP/stubborn.sh"

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
wait_until_ignoring_term "$stubborn_pid"
proc_has_signal "$worker_pid" SigCgt 15 || drill_error "worker $worker_pid does not trap SIGTERM"
log_info "worker $worker_pid traps SIGTERM; child $stubborn_pid ignores it"

# The child ignores SIGTERM, so the tree cannot empty before the grace period ends.
term_and_expect_escalation "$grace_s"
if grep -q "forwarding SIGTERM" "$FF_TMP/reaper.log" 2>/dev/null; then
  log_info "the worker forwarded SIGTERM to its child (seen in the worker's stderr)"
fi
drill_pass "forwarding worker and stubborn child gone after ${FF_REAPER_EXIT_MS} ms"
