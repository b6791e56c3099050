#!/usr/bin/env bash
# Drill 02: a grandchild of the worker escapes with setsid (new session and process group);
# SIGTERM to the reaper must still leave no process of the worker tree behind.
# negative-control: escapees
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/test_functions.sh
source "$script_dir/../lib/test_functions.sh"

drill_init "drill_02_setsid_escapee"
command -v setsid >/dev/null 2>&1 || drill_error "setsid(1) is not installed"

# child.sh DIR: a setsid escapee and an ordinary sleep, both grandchildren of the worker.
cat >"$FF_TMP/child.sh" <<'WORKER'
dir=$1
setsid sleep 1000 &
sleep 1000 &
wait
WORKER

cat >"$FF_TMP/worker.sh" <<'WORKER'
dir=$1
sh "$dir/child.sh" "$dir" &
echo $$ >"$dir/ready.tmp" && mv "$dir/ready.tmp" "$dir/ready"
wait
WORKER

# worker + child shell + escapee + sleep.
expected=4

start_reaper -- sh "$FF_TMP/worker.sh" "$FF_TMP"
wait_for_ready 10000
worker_pid=$(read_pid_file "$FF_TMP/ready") || drill_error "ready file holds no PID"
wait_for_marker_count "$expected" 10000 || drill_error "worker tree did not reach $expected processes"
worker_sid=$(proc_field "$worker_pid" 3) || drill_error "worker $worker_pid vanished before the drill started"

# Precondition: one process of the tree really is in another session (bounded poll,
# setsid runs asynchronously).
escapee=""
deadline=$(($(now_ms) + 5000))
while [[ -z "$escapee" ]]; do
  while IFS= read -r pid; do
    [[ -n "$pid" ]] || continue
    sid=$(proc_field "$pid" 3) || continue
    if [[ "$sid" != "$worker_sid" && "$sid" == "$pid" ]]; then
      escapee=$pid
      break
    fi
  done <<<"$(marker_pids)"
  [[ -n "$escapee" ]] && break
  (($(now_ms) >= deadline)) && drill_error "no process of the worker tree left session $worker_sid via setsid"
  sleep "$FF_POLL_INTERVAL"
done
log_info "worker $worker_pid (session $worker_sid); escapee $(proc_describe "$escapee")"

stop_reaper_and_check 5
drill_pass "the setsid escapee and the rest of the tree are gone"
