#!/usr/bin/env bash
# FlowForge: openapi.yaml against the real servers with schemathesis (its default checks), bounded in time.
# Two passes: `flowforge dashboard`, then `flowforge run --listen`; 0 failures each, and both servers still
# alive, with /healthz answering 200, afterwards. Installs a pinned schemathesis in a venv when missing.
set -euo pipefail
unset PYTHONUNBUFFERED

usage() {
    cat <<'USAGE'
Usage: ./scripts/check_openapi.sh [--bin PATH] [--max-examples N] [--help]

Starts a `flowforge dashboard` and a `flowforge run --listen` on free loopback ports, each with its own
throwaway state directory and API key, runs `schemathesis run openapi.yaml` against each (default checks,
the key sent with every request), and fails on any schemathesis failure, or if a server died or stopped
answering GET /healthz with 200. Prints one PASS/FAIL line per check.

  --bin PATH          the flowforge binary (default: .build/debug/flowforge)
  --max-examples N    test cases per operation and phase (default 100; the whole script takes about a minute)
  --help              show this help

schemathesis SCHEMATHESIS_VERSION is installed into $FLOWFORGE_TOOLS_DIR (default .build/tools) if missing.
USAGE
}

SCHEMATHESIS_VERSION=4.32.5
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$repo/.build/debug/flowforge"
max_examples=100
while (($#)); do
    case "$1" in
        --bin) bin="${2:?--bin needs a path}"; shift 2 ;;
        --max-examples) max_examples="${2:?--max-examples needs a number}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "check_openapi.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ -x "$bin" ]] || { echo "check_openapi.sh: $bin is not executable; run swift build first" >&2; exit 2; }
command -v curl >/dev/null || { echo "check_openapi.sh: curl is required" >&2; exit 2; }

# --- schemathesis, pinned, in its own venv ---------------------------------------------------------------
tools="${FLOWFORGE_TOOLS_DIR:-$repo/.build/tools}"
venv="$tools/schemathesis-$SCHEMATHESIS_VERSION"
st="$venv/bin/schemathesis"
if ! "$st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    mkdir -p "$tools"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

passed=0
failed=0
check() { # check NAME CONDITION-RESULT(0/1) DETAIL
    if [[ "$2" == 0 ]]; then echo "PASS $1"; passed=$((passed + 1)); else echo "FAIL $1${3:+: $3}"; failed=$((failed + 1)); fi
}

work="$(mktemp -d)"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "${FLOWFORGE_KEEP_CHECK:-}" ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
healthy() { [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1/healthz")" == 200 ]]; }
wait_healthy() { for _ in $(seq 1 150); do healthy "$1" && return 0; sleep 0.1; done; return 1; }
new_state() { local d="$work/$1"; mkdir -p "$d"; chmod 700 "$d"; echo "$d"; }
key="ffk-check-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

# The runs under test restart on every accepted POST /process/restart: lift the crash-loop guard (it counts
# operator restarts) and keep the grace short, so hundreds of fuzzed restarts never end a run.
run_options=(--grace 0.2 --max-restarts 1000000 --sample-interval 0.5)
worker=(sh -c 'echo ready; exec sleep 100000')

# schemathesis PASS-NAME URL [EXTRA ARGS...]: its exit status is the verdict (non-zero on any failure).
schemathesis() {
    local name=$1 url=$2
    shift 2
    local rc=0 started=$SECONDS
    (cd "$work" && "$st" run "$repo/openapi.yaml" --url "$url" -H "Authorization: Bearer $key" \
        --max-examples "$max_examples" --workers 1 --request-timeout 10 --suppress-health-check all \
        "$@") >"$work/$name.txt" 2>&1 || rc=$?
    sed -n '/= SUMMARY =/,$p' "$work/$name.txt" | sed 's/^/    /'
    if [[ $rc != 0 ]]; then sed -n '1,/= SUMMARY =/p' "$work/$name.txt" | head -150 | sed 's/^/    | /'; fi
    check "schemathesis against $name: 0 failures ($((SECONDS - started)) s)" "$rc" "exit $rc"
}

# --- pass 1: the dashboard ------------------------------------------------------------------------------
# Its state directory holds one live run, so the process endpoints really act (202) through its control
# socket. That run is expendable: the first accepted kill ends it, and later actions answer 409 (no live
# process), which the spec documents. What must survive is the dashboard.
echo "==> dashboard"
dash_state="$(new_state dashboard)"
dash_port="$(free_port)"
dash_url="http://127.0.0.1:$dash_port"
FLOWFORGE_STATE_DIR="$dash_state" FLOWFORGE_API_KEY="$key" \
    "$bin" run "${run_options[@]}" -- "${worker[@]}" >"$work/expendable.out" 2>"$work/expendable.err" &
expendable=$!
pids+=("$expendable")
FLOWFORGE_STATE_DIR="$dash_state" FLOWFORGE_API_KEY="$key" \
    "$bin" dashboard --listen "127.0.0.1:$dash_port" >"$work/dashboard.log" 2>&1 &
dashboard=$!
pids+=("$dashboard")
wait_healthy "$dash_url"; check "dashboard answers on $dash_url" $? "$(tail -5 "$work/dashboard.log")"
for _ in $(seq 1 100); do ls "$dash_state"/runs/*.sock >/dev/null 2>&1 && break; sleep 0.1; done
schemathesis dashboard "$dash_url"
kill -0 "$dashboard" 2>/dev/null; check "the dashboard is alive after the pass" $?
healthy "$dash_url"; check "the dashboard's /healthz answers 200 after the pass" $?
if kill -0 "$expendable" 2>/dev/null; then rc=alive; else rc=0; wait "$expendable" || rc=$?; fi
[[ "$rc" == alive || "$rc" == 120 ]]; check "the dashboard's run is alive or was stopped by an accepted kill (120)" $? "exit $rc"

# --- pass 2: a run's API agent --------------------------------------------------------------------------
# POST /process/kill is left out here: one accepted kill ends the run (exit 120) and with it the server under
# test, and every later request would fail to connect. The kill's validation is the same router code that
# pass 1 fuzzed through the dashboard (which forwards to this very agent's control socket); its 202 and the
# exit are checked below with one real kill, and by the contract tests.
echo "==> flowforge run --listen"
run_state="$(new_state run)"
run_port="$(free_port)"
run_url="http://127.0.0.1:$run_port"
FLOWFORGE_STATE_DIR="$run_state" FLOWFORGE_API_KEY="$key" \
    "$bin" run --listen "127.0.0.1:$run_port" "${run_options[@]}" -- "${worker[@]}" >"$work/run.out" 2>"$work/run.err" &
run=$!
pids+=("$run")
wait_healthy "$run_url"; check "the run's API answers on $run_url" $? "$(tail -5 "$work/run.err")"
schemathesis run "$run_url" --exclude-operation-id killProcess
kill -0 "$run" 2>/dev/null; check "the run is alive after the pass" $? "$(tail -5 "$work/run.err")"
healthy "$run_url"; check "the run's /healthz answers 200 after the pass" $?

status="$(curl -sS --max-time 10 -o "$work/kill.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -d '{"reason":"check_openapi: the last request"}' "$run_url/process/kill" || true)"
for _ in $(seq 1 50); do [[ "$status" == 409 ]] || break; sleep 0.2 # a fuzzed restart may still be tearing down
    status="$(curl -sS --max-time 10 -o "$work/kill.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' -d '{"reason":"check_openapi: the last request"}' "$run_url/process/kill" || true)"
done
[[ "$status" == 202 ]] && grep -q '"status":"accepted"' "$work/kill.json"
check "POST /process/kill on the run: 202 accepted" $? "$status $(head -c 300 "$work/kill.json")"
rc=0
for _ in $(seq 1 100); do kill -0 "$run" 2>/dev/null || break; sleep 0.1; done
wait "$run" || rc=$?
[[ "$rc" == 120 ]]; check "the killed run exited 120" $? "exit $rc"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
