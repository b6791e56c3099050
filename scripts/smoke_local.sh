#!/usr/bin/env bash
# FlowForge release gate (runbook section 2): the demo's summary, flowforge up/ps/stop, then /healthz, /metrics
# and /timeline.
# Uses a running dashboard, or starts one on a free loopback port and stops it afterwards.
set -euo pipefail
unset PYTHONUNBUFFERED

usage() {
    cat <<'USAGE'
Usage: ./scripts/smoke_local.sh [--bin PATH] [--help]

Runs `flowforge demo` and checks its summary for "Runaway detected in", "CPU peaked at" and
"Process recovered"; starts two instances with flowforge up in a throwaway state directory and checks
ps --json and stop all; then probes GET /healthz, GET /metrics and GET /timeline on the running
dashboard (or on one it starts on a free loopback port). Prints PASS/FAIL per check and exits
non-zero on any failure.

  --bin PATH   the flowforge binary (default: ./flowforge, the release build)
  --help       show this help
USAGE
}

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$repo/flowforge"
while (($#)); do
    case "$1" in
        --bin) bin="${2:?--bin needs a path}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "smoke_local.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ -x "$bin" ]] || { echo "smoke_local.sh: $bin is not executable; run ./scripts/install.sh first" >&2; exit 2; }
command -v curl >/dev/null || { echo "smoke_local.sh: curl is required" >&2; exit 2; }

passed=0
failed=0
check() { # check NAME CONDITION-RESULT(0/1) DETAIL
    if [[ "$2" == 0 ]]; then echo "PASS $1"; passed=$((passed + 1)); else echo "FAIL $1${3:+: $3}"; failed=$((failed + 1)); fi
}

state="${FLOWFORGE_STATE_DIR:-$HOME/.local/state/flowforge}"
started_pid=""
work="$(mktemp -d)"
fleet_up=0
cleanup() {
    if [[ $fleet_up == 1 ]]; then
        FLOWFORGE_STATE_DIR="$work/fleet" FLOWFORGE_CONFIG="$work/fleet.yaml" "$bin" stop all --grace 0 >/dev/null 2>&1 || true
    fi
    if [[ -n "$started_pid" ]] && kill -0 "$started_pid" 2>/dev/null; then
        kill -TERM "$started_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$started_pid" 2>/dev/null || true
        rm -f "$state/dashboard.pid" "$state/dashboard.url"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "==> demo"
demo_out="$work/demo.txt"
demo_rc=0
"$bin" demo >"$demo_out" 2>"$work/demo.err" || demo_rc=$?
sed 's/^/    /' "$demo_out"
grep -q '^Runaway detected in ' "$demo_out"; check "demo: Runaway detected in ..." $? "$(head -c 300 "$work/demo.err")"
grep -qE '^CPU peaked at [0-9]+%' "$demo_out"; check "demo: CPU peaked at ..." $?
grep -q '^Process recovered' "$demo_out"; check "demo: Process recovered" $?
[[ $demo_rc == 0 ]]; check "demo exit status 0" $? "exit $demo_rc"

echo "==> fleet (flowforge up / ps / stop, in a throwaway state directory)"
printf 'programs:\n  smoke:\n    command: ["sleep", "300"]\n    instances: 2\n' >"$work/fleet.yaml"
fleet() { FLOWFORGE_STATE_DIR="$work/fleet" FLOWFORGE_CONFIG="$work/fleet.yaml" "$bin" "$@"; }
fleet_up=1
ok() { if "$@"; then echo 0; else echo 1; fi; } # a condition's result for check, without tripping set -e
up_rc=0
up_out="$(fleet up 2>&1)" || up_rc=$?
check "up starts smoke:1 and smoke:2" "$(ok test "$up_rc" = 0 -a "$(grep -c ': started' <<<"$up_out")" = 2)" "${up_out:0:300}"
count() { fleet ps --json | python3 -c 'import json,sys; print(sum(r["state"] == sys.argv[1] and (r["pid"] > 0) == (sys.argv[1] == "running") for r in json.load(sys.stdin)))' "$1" 2>&1 || true; }
running="$(count running)"
check "ps --json: 2 running" "$(ok test "$running" = 2)" "got: $running"
stop_rc=0
stop_out="$(fleet stop all --grace 1 2>&1)" || stop_rc=$?
stopped="$(count stopped)"
check "stop all: 2 stopped" "$(ok test "$stop_rc" = 0 -a "$stopped" = 2)" "${stop_out:0:300} (stopped: $stopped)"

echo "==> endpoints"
url=""
if [[ -f "$state/dashboard.pid" ]] && kill -0 "$(cat "$state/dashboard.pid")" 2>/dev/null && [[ -f "$state/dashboard.url" ]]; then
    url="$(cat "$state/dashboard.url")"
    echo "    using the running dashboard at $url"
else
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$bin" dashboard --listen "127.0.0.1:$port" >"$work/dashboard.log" 2>&1 &
    started_pid=$!
    url="http://127.0.0.1:$port"
    echo "    started a dashboard at $url (pid $started_pid)"
    for _ in $(seq 1 100); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
fi

health="$(curl -sS --max-time 5 "$url/healthz" 2>&1 || true)"
[[ "$health" == '{"status":"ok"}' ]]; check 'GET /healthz returns {"status":"ok"}' $? "got: ${health:0:200}"
metrics="$(curl -sS --max-time 5 "$url/metrics" 2>&1 || true)"
grep -q '^flowforge_uptime_seconds' <<<"$metrics"; check "GET /metrics includes flowforge_uptime_seconds" $? "got: ${metrics:0:200}"
timeline="$(curl -sS --max-time 5 "$url/timeline" 2>&1 || true)"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if isinstance(d, list) else 1)' "$timeline" 2>/dev/null
check "GET /timeline returns a JSON array" $? "got: ${timeline:0:200}"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
