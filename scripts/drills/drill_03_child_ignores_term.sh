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

write_stubborn_child "$FF_TMP/stubborn.sh"

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
wait_until_ignoring_term "$stubborn_pid"
log_info "child $stubborn_pid ignores SIGTERM"

term_and_expect_escalation "$grace_s"
drill_pass "escalated after ${FF_REAPER_EXIT_MS} ms (window 900-$(((grace_s + 2) * 1000)) ms); nothing left"
