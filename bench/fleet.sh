#!/usr/bin/env bash
# Budget 6 (issue 12, scale on this machine): one `flowforge up` of 50 program instances.
#   fleet_up_seconds            all 50 started and answering on their control sockets, at most 5 s
#   fleet_pss_per_instance      every FlowForge process of the fleet (reapers, spawners, agents, log writers;
#                               not the workers) together, PSS divided by the instances: at most 8 MiB
#   fleet_idle_cpu              the same processes' CPU over 10 s idle, together: at most 2 % of one core
#                               (the figure per instance is printed as a note)
#   fleet_runs_p99 / fleet_metrics_p99  the dashboard's /runs and /metrics with 50 live runs (wrk): p99 at
#                               most 50 ms
#   fleet_reingest_seconds      a dashboard restarted over an empty store re-ingests every spool line once
#                               (no duplicates; a second restart adds nothing): the time it takes
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

usage="Usage: bench/fleet.sh [--quick] [--help]

Starts 50 instances of an idle program (sleep) with one flowforge up in a throwaway state directory and
prints:
  BENCH fleet_up_seconds <s> s budget 5 <PASS|OVER>
  BENCH fleet_pss_per_instance <MiB> MiB budget 8 <PASS|OVER>
  BENCH fleet_idle_cpu <percent> % budget 2 <PASS|OVER>
  BENCH fleet_runs_p99 <ms> ms budget 50 <PASS|OVER>
  BENCH fleet_metrics_p99 <ms> ms budget 50 <PASS|OVER>
  BENCH fleet_reingest_seconds <s> s budget 30 <PASS|OVER>
  --quick   10 instances, shorter idle and wrk windows (a smoke run of the script, not the budget)"
bench_parse_args "$usage" "$@"
bench_init fleet

instances=50
idle_s=10
wrk_s=10
if [[ "$BENCH_QUICK" == 1 ]]; then
  instances=10
  idle_s=3
  wrk_s=3
fi
command -v wrk >/dev/null || bench_error fleet_runs_p99 ms 50 "wrk is not installed (apt-get install wrk)"

state="$BENCH_TMP/state"
mkdir "$state"
chmod 700 "$state"
export FLOWFORGE_STATE_DIR="$state"
# The reapers and everything they start carry the scope (the cleanup trap's net); the workers carry the
# marker too, so they can be told apart from FlowForge's own processes.
export "$FF_SCOPE_VAR=$BENCH_SCOPE"
cat >"$BENCH_TMP/fleet.yaml" <<EOF
programs:
  idle:
    command: ["env", "$FF_MARKER_VAR=$BENCH_SCOPE", "sleep", "100000"]
    instances: $instances
EOF

# ---- up ---------------------------------------------------------------------------------------------
start=$(now_us)
if ! "$FLOWFORGE" up --config "$BENCH_TMP/fleet.yaml" >"$BENCH_TMP/up.log" 2>&1; then
  sed 's/^/  | /' "$BENCH_TMP/up.log" | tail -n 5
  bench_error fleet_up_seconds s 5 "flowforge up failed"
fi
up_us=$(($(now_us) - start))
while IFS= read -r pid; do [[ -n "$pid" ]] && BENCH_REAPERS+=("$pid"); done < <(
  "$FLOWFORGE" ps --json | python3 -c 'import json, sys; [print(r.get("reaper_pid") or "") for r in json.load(sys.stdin)]')
note "up: ${#BENCH_REAPERS[@]} reapers"
bench_result fleet_up_seconds "$(fmt 2 "$up_us / 1000000")" s 5

# ---- memory and idle CPU of FlowForge's own processes -------------------------------------------------
# ours: the fleet's FlowForge processes: each reaper and its children but the worker (the agents drop the
# scope from their environment; the worker carries the marker), and the log writers (they keep the scope).
ours() {
  local pid child
  for pid in "${BENCH_REAPERS[@]}"; do
    proc_is_live "$pid" || continue
    printf '%s\n' "$pid"
    for child in $(proc_children "$pid"); do
      grep -qsxzF -e "$FF_MARKER_VAR=$BENCH_SCOPE" "/proc/$child/environ" || printf '%s\n' "$child"
    done
  done
  for pid in $(find_env_pids "$FF_SCOPE_VAR=$BENCH_SCOPE"); do
    grep -qsxzF -e "$FF_MARKER_VAR=$BENCH_SCOPE" "/proc/$pid/environ" && continue
    printf '%s\n' "$pid"
  done
}
sleep 3 # past start-up: the detectors have their first samples, the API agents have read their spools
mapfile -t pids < <(ours | sort -un)
pss_kb=0
for pid in "${pids[@]}"; do pss_kb=$((pss_kb + $(proc_rollup_kb "$pid" Pss || echo 0))); done
note "${#pids[@]} FlowForge processes for $instances instances, PSS $((pss_kb / 1024)) MiB in all"
bench_result fleet_pss_per_instance "$(awk -v k="$pss_kb" -v n="$instances" 'BEGIN { printf "%.2f", k / 1024 / n }')" MiB 8

ticks_before=0
for pid in "${pids[@]}"; do ticks_before=$((ticks_before + $(proc_cpu_ticks "$pid" || echo 0))); done
sleep "$idle_s"
ticks_after=0
for pid in "${pids[@]}"; do ticks_after=$((ticks_after + $(proc_cpu_ticks "$pid" || echo 0))); done
hz=$(getconf CLK_TCK)
total_pct=$(awk -v d=$((ticks_after - ticks_before)) -v hz="$hz" -v s="$idle_s" 'BEGIN { printf "%.2f", 100 * d / hz / s }')
note "idle CPU per instance: $(awk -v t="$total_pct" -v n="$instances" 'BEGIN { printf "%.3f", t / n }') % of one core"
bench_result fleet_idle_cpu "$total_pct" % 2

# ---- the dashboard with every run live ---------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_dashboard() {
  "$FLOWFORGE" dashboard --listen "127.0.0.1:$port" >>"$BENCH_TMP/dashboard.log" 2>&1 &
  dashboard_pid=$!
  BENCH_TRACKED+=("$(proc_ref "$dashboard_pid")")
  local _
  for _ in {1..200}; do
    curl -fsS --max-time 1 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  bench_error fleet_runs_p99 ms 50 "the dashboard did not answer"
}
stop_dashboard() {
  kill -TERM "$dashboard_pid" 2>/dev/null || true
  wait "$dashboard_pid" 2>/dev/null || true
}
start_dashboard
live=$(curl -fsS "http://127.0.0.1:$port/runs" | python3 -c 'import json, sys; print(sum(1 for r in json.load(sys.stdin) if r.get("live")))')
note "/runs lists $live live runs"
for target in runs metrics; do
  wrk -t2 -c8 -d"${wrk_s}s" --latency "http://127.0.0.1:$port/$target" >"$BENCH_TMP/wrk-$target.txt" 2>&1 || true
  p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; printf "%.2f", v }' "$BENCH_TMP/wrk-$target.txt")
  rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$BENCH_TMP/wrk-$target.txt")
  [[ -n "$p99" ]] || bench_error "fleet_${target}_p99" ms 50 "wrk printed no latency ($(head -c 200 "$BENCH_TMP/wrk-$target.txt"))"
  note "/$target: $rps requests/s"
  bench_result "fleet_${target}_p99" "$p99" ms 50
done

# ---- re-ingestion ------------------------------------------------------------------------------------
# Over finished spools: stop the fleet first, so nothing is appended while the store is counted.
stop_dashboard
start=$(now_us)
"$FLOWFORGE" stop all --grace 1 >"$BENCH_TMP/stop.log" 2>&1 || note "stop all: $(tail -n 1 "$BENCH_TMP/stop.log")"
note "stop all: $(fmt 2 "($(now_us) - $start) / 1000000") s"
spool_lines=$(cat "$state"/runs/*.jsonl | grep -c '^{' || true)
# counts: "<events> <distinct (run, seq)>" in the store.
counts() {
  python3 - "$state/flowforge.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(*db.execute("SELECT COUNT(*), COUNT(DISTINCT run_id || '/' || seq) FROM events").fetchone())
EOF
}
rm -f "$state"/flowforge.db "$state"/flowforge.db-wal "$state"/flowforge.db-shm
start=$(now_us)
start_dashboard
while :; do
  read -r events distinct < <(counts 2>/dev/null || echo "0 0")
  ((events >= spool_lines)) && break
  (($(now_us) - start > 60000000)) && bench_error fleet_reingest_seconds s 30 "only $events of $spool_lines events after 60 s"
  sleep 0.1
done
reingest_us=$(($(now_us) - start))
stop_dashboard
start_dashboard
sleep 2 # two ingestion passes over the same spools
stop_dashboard
read -r events2 distinct2 < <(counts)
note "spools: $spool_lines lines; store: $events events ($distinct distinct) after the re-ingest, $events2 ($distinct2) after one more restart"
if ((events != distinct || events2 != events || distinct2 != distinct)); then
  bench_error fleet_reingest_seconds s 30 "duplicates or growth after a restart"
fi
bench_result fleet_reingest_seconds "$(fmt 2 "$reingest_us / 1000000")" s 30
