#!/usr/bin/env bash
# Drill 08: operator actions through the HTTP API. POST /process/restart gives a new worker pid;
# POST /process/kill removes the active process and its whole tree, and the run's events show the
# operator action with its reason.
# negative-control: tree-teardown
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/test_functions.sh
source "$script_dir/../lib/test_functions.sh"

drill_init "drill_08_api_kill"

export FLOWFORGE_STATE_DIR="$FF_TMP/state"
export FLOWFORGE_API_KEY="drill-key-$RANDOM$RANDOM"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

# worker.sh DIR: a child, a grandchild that leaves the group with setsid, then "ready" (its pid).
cat >"$FF_TMP/worker.sh" <<'WORKER'
dir=$1
sleep 1000 &
sh -c 'setsid sleep 1000 & sleep 1000' &
echo $$ >"$dir/ready.tmp" && mv "$dir/ready.tmp" "$dir/ready"
wait
WORKER

post() { # post ACTION REASON -> prints "STATUS BODY"
  curl -sS --max-time 10 -o "$FF_TMP/body" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $FLOWFORGE_API_KEY" -H "Content-Type: application/json" \
    -d "{\"reason\":\"$2\"}" "$url/process/$1" || true
}

start_reaper --listen "127.0.0.1:$port" --grace 1 -- sh "$FF_TMP/worker.sh" "$FF_TMP"
wait_for_ready 10000
first=$(read_pid_file "$FF_TMP/ready") || drill_error "ready file holds no PID"
wait_for_marker_count 5 10000 || drill_error "worker tree did not reach 5 processes"
for _ in $(seq 1 100); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$url/healthz" >/dev/null 2>&1 || drill_error "the API never answered on $url"

rm -f "$FF_TMP/ready"
status=$(post restart "drill restart")
[[ "$status" == 202 ]] || drill_fail "POST /process/restart answered $status: $(cat "$FF_TMP/body")"
wait_for_ready 10000
second=$(read_pid_file "$FF_TMP/ready") || drill_error "no ready file after the restart"
[[ "$second" != "$first" ]] || drill_fail "the restart kept pid $first"
log_info "restart: worker $first -> $second"
wait_for_marker_count 5 10000 || drill_error "the new worker tree did not reach 5 processes"

FF_SIGNAL_SENT_MS=$(now_ms)
status=$(post kill "drill emergency stop")
[[ "$status" == 202 ]] || drill_fail "POST /process/kill answered $status: $(cat "$FF_TMP/body")"
wait_for_reaper_exit 10000 || drill_fail "the reaper did not exit after the API kill"
[[ "$FF_REAPER_RC" == 120 ]] || drill_fail "the reaper exited $FF_REAPER_RC, not 120"
expect_no_survivors "the API kill"
spool=$(ls "$FLOWFORGE_STATE_DIR"/runs/*.jsonl)
grep -q '"kind":"action.requested".*"by":"api".*"reason":"drill emergency stop"' "$spool" \
  || grep -q '"kind":"action.requested".*"reason":"drill emergency stop"' "$spool" \
  || drill_fail "the run's events do not show the operator kill with its reason"
drill_pass "API restart gave a new pid ($first -> $second); API kill removed the whole tree; the timeline shows the operator action"
