#!/usr/bin/env bash
# Drill 01: a worker with children and grandchildren in its process group; SIGTERM to the
# reaper must leave no process of the worker tree behind once the reaper has exited.
# negative-control: tree-teardown
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/test_functions.sh
source "$script_dir/../lib/test_functions.sh"

drill_init "drill_01_group_teardown"

# chain.sh DEPTH: one `sleep` at this level plus a nested chain one level deeper.
cat >"$FF_TMP/chain.sh" <<'WORKER'
depth=$1
sleep 1000 &
if [ "$depth" -gt 1 ]; then
  sh "$0" $((depth - 1)) &
fi
wait
WORKER

# worker.sh DIR: two direct sleep children and two chains of depth 3, then "ready".
cat >"$FF_TMP/worker.sh" <<'WORKER'
dir=$1
sleep 1000 &
sleep 1000 &
sh "$dir/chain.sh" 3 &
sh "$dir/chain.sh" 3 &
echo $$ >"$dir/ready.tmp" && mv "$dir/ready.tmp" "$dir/ready"
wait
WORKER

# worker + 2 sleeps + 2 x (3 chain shells + 3 sleeps) = 15 processes.
expected=15

start_reaper -- sh "$FF_TMP/worker.sh" "$FF_TMP"
wait_for_ready 10000
worker_pid=$(read_pid_file "$FF_TMP/ready") || drill_error "ready file holds no PID"
wait_for_marker_count "$expected" 10000 || drill_error "worker tree did not reach $expected processes"
worker_pgrp=$(proc_field "$worker_pid" 2) || drill_error "worker $worker_pid vanished before the drill started"
log_info "worker $worker_pid (pgrp $worker_pgrp) has a tree of $expected processes"

stop_reaper_and_check 5
drill_pass "all $expected processes of the worker tree are gone"
