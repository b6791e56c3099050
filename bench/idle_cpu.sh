#!/usr/bin/env bash
# Budget 2: idle supervision (worker `sleep`, default settings) costs all FlowForge processes together
# (reaper, spawner, detector, api; not the worker) at most 0.5% of one core over 60 s.
#
# CPU time is utime+stime from /proc/PID/stat (all threads), in ticks of `getconf CLK_TCK`, taken
# after the helpers are up and a settle period (start-up is not idle), and again 60 s later.
# As a finer cross-check it also sums the threads' /proc/PID/task/*/schedstat run time (ns) and counts
# voluntary context switches (wake-ups).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

usage="Usage: bench/idle_cpu.sh [--quick] [--help]

Measures the CPU used by all FlowForge processes while they supervise an idle worker (sleep).
Prints:
  BENCH idle_cpu <percent of one core> %core budget 0.5 <PASS|OVER>
  --quick   a 15 s window instead of 60 s (ticks are 10 ms, so the figure is coarser)"
bench_parse_args "$usage" "$@"
bench_init idle_cpu

window_s=60
settle_s=3
if [[ "$BENCH_QUICK" == 1 ]]; then
  window_s=15
  settle_s=2
fi
budget=0.5
hz=$(getconf CLK_TCK)

bench_start_reaper "$BENCH_TMP/reaper.log" -- sleep "$((window_s + settle_s + 60))"
bench_find_helpers "$REAPER_PID" 15 || bench_error idle_cpu %core "$budget" "the reaper's helpers did not all start"
roles=(reaper spawner detector api)
declare -A pid=([reaper]=$REAPER_PID [spawner]=$SPAWNER_PID [detector]=$DETECTOR_PID [api]=$API_PID)
declare -A ref0=() ticks0=() ns0=() csw0=()
sleep "$settle_s"

# snapshot: prints "role ticks schedstat_ns context_switches" for each FlowForge process.
snapshot() {
  local role p ticks
  for role in "${roles[@]}"; do
    p=${pid[$role]}
    ticks=$(proc_cpu_ticks "$p") || return 1
    printf '%s %s %s %s\n' "$role" "$ticks" "$(proc_runtime_all_ns "$p")" \
      "$(($(proc_status_kb "$p" voluntary_ctxt_switches) + $(proc_status_kb "$p" nonvoluntary_ctxt_switches)))"
  done
}

for role in "${roles[@]}"; do
  ref0[$role]=$(proc_ref "${pid[$role]}")
done
t0=$(now_us)
snap=$(snapshot) || bench_error idle_cpu %core "$budget" "a FlowForge process is gone before the window"
while read -r role a b c; do
  ticks0[$role]=$a ns0[$role]=$b csw0[$role]=$c
done <<<"$snap"
note "window ${window_s} s, CLK_TCK $hz; pids: reaper ${pid[reaper]} spawner ${pid[spawner]}" \
  "detector ${pid[detector]} api ${pid[api]} worker $WORKER_PID"
sleep "$window_s"
declare -A ticks1=() ns1=() csw1=()
snap=$(snapshot) || bench_error idle_cpu %core "$budget" "a FlowForge process is gone at the end of the window"
t1=$(now_us)
while read -r role a b c; do
  ticks1[$role]=$a ns1[$role]=$b csw1[$role]=$c
done <<<"$snap"

total_ticks=0
total_ns=0
elapsed_s=$(fmt 3 "($t1 - $t0) / 1000000")
for role in "${roles[@]}"; do
  if [[ "$(proc_ref "${pid[$role]}")" != "${ref0[$role]}" ]]; then
    bench_error idle_cpu %core "$budget" "$role was replaced during the window (agent restart?)"
  fi
  dt=$((ticks1[$role] - ticks0[$role]))
  dns=$((ns1[$role] - ns0[$role]))
  dcsw=$((csw1[$role] - csw0[$role]))
  total_ticks=$((total_ticks + dt))
  total_ns=$((total_ns + dns))
  note "$role: $dt ticks ($(fmt 3 "$dt * 100 / $hz / $elapsed_s")% core), schedstat $(fmt 1 "$dns / 1000000") ms," \
    "$dcsw context switches ($(fmt 2 "$dcsw / $elapsed_s")/s)"
done
if proc_is_live "$WORKER_PID"; then
  note "worker still sleeping at the end (as expected)"
else
  note "WARNING: the worker ended during the window"
fi
note "schedstat cross-check: $(fmt 1 "$total_ns / 1000000") ms on CPU = $(fmt 4 "$total_ns / 10000000 / $elapsed_s")% core"
bench_stop_reaper "$REAPER_PID" 15
note "reaper exited with status $REAPER_RC"
bench_result idle_cpu "$(fmt 3 "$total_ticks * 100 / $hz / $elapsed_s")" %core "$budget"
