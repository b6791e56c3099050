#!/usr/bin/env bash
# Budget 1: resident memory while supervising. The reaper's VmRSS at most 6 MiB; the reaper, the
# spawner and both agents together (not the worker) at most 48 MiB.
#
# Two phases, each with default settings: an idle worker (sleep) and a busy one (text on stdout at
# full speed for a few seconds, piped to cat, so the relay and the detector's copy are active).
# VmRSS of each FlowForge process is sampled every 0.5 s; the figures are the maxima over both phases
# (the total is the largest sum of one sampling instant).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

usage="Usage: bench/memory.sh [--quick] [--help]

Measures VmRSS of the reaper and of all FlowForge processes (reaper, spawner, detector, api) while
supervising an idle and a busy worker. Prints:
  BENCH memory_reaper_rss <MiB> MiB budget 6 <PASS|OVER>
  BENCH memory_total_rss <MiB> MiB budget 48 <PASS|OVER>
  --quick   shorter phases (3 s instead of 10 s each)"
bench_parse_args "$usage" "$@"
bench_init memory

phase_s=10
if [[ "$BENCH_QUICK" == 1 ]]; then
  phase_s=3
fi
budget_reaper_mib=6
budget_total_mib=48

max_reaper_kb=0
max_total_kb=0
declare -A max_kb=()

# sample_phase LABEL SECONDS: samples the four FlowForge processes of REAPER_PID.
sample_phase() {
  local label=$1 seconds=$2 end role pid kb total n=0 pss pss_total
  local -A pids=([reaper]=$REAPER_PID [spawner]=$SPAWNER_PID [detector]=$DETECTOR_PID [api]=$API_PID)
  end=$(($(now_us) + seconds * 1000000))
  while (($(now_us) < end)); do
    total=0
    for role in reaper spawner detector api; do
      pid=${pids[$role]}
      kb=$(proc_status_kb "$pid" VmRSS) || bench_error memory_total_rss MiB "$budget_total_mib" \
        "$role ($pid) vanished during the $label phase"
      total=$((total + kb))
      ((kb > ${max_kb[$role]:-0})) && max_kb[$role]=$kb
      if [[ "$role" == reaper ]] && ((kb > max_reaper_kb)); then
        max_reaper_kb=$kb
      fi
    done
    ((total > max_total_kb)) && max_total_kb=$total
    n=$((n + 1))
    sleep 0.5
  done
  pss_total=0
  for role in reaper spawner detector api; do
    pid=${pids[$role]}
    pss=$(proc_rollup_kb "$pid" Pss || echo 0)
    pss_total=$((pss_total + pss))
    note "$label: $role pid $pid VmRSS $(proc_status_kb "$pid" VmRSS) kB" \
      "(RssAnon $(proc_status_kb "$pid" RssAnon), RssFile $(proc_status_kb "$pid" RssFile)," \
      "VmHWM $(proc_status_kb "$pid" VmHWM), Pss $pss, Private_Dirty $(proc_rollup_kb "$pid" Private_Dirty))"
  done
  note "$label: $n samples; largest VmRSS total so far $max_total_kb kB; Pss total now $pss_total kB" \
    "(Pss splits the shared library pages between the processes mapping them)"
}

# --- phase 1: idle worker -------------------------------------------------------------------------
bench_start_reaper "$BENCH_TMP/idle.log" -- sleep 600
bench_find_helpers "$REAPER_PID" 15 || bench_error memory_total_rss MiB "$budget_total_mib" \
  "the reaper's helpers did not all start (log: $(tail -n 5 "$BENCH_TMP/idle.log" 2>/dev/null))"
sleep 1
sample_phase idle "$phase_s"
bench_stop_reaper "$REAPER_PID" 15
note "idle: reaper exited with status $REAPER_RC"

# --- phase 2: busy worker (text at full speed, bounded in time) ------------------------------------
line='2026-01-01T00:00:00Z INFO worker: request id=4711 path=/api/v1/items status=200 took=12ms'
(
  printf '%s\n' "$BASHPID" >"$BENCH_TMP/busy.pid"
  exec env FLOWFORGE_DRILL_SCOPE="$BENCH_SCOPE" "$FLOWFORGE" run -- \
    env "FLOWFORGE_DRILL_MARKER=$BENCH_SCOPE" timeout "$((phase_s + 5))" yes "$line" 2>"$BENCH_TMP/busy.log"
) | cat >/dev/null &
pipeline_pid=$!
for _ in $(seq 1 100); do
  [[ -s "$BENCH_TMP/busy.pid" ]] && break
  sleep 0.05
done
REAPER_PID=$(<"$BENCH_TMP/busy.pid")
bench_record_reaper "$REAPER_PID"
bench_find_helpers "$REAPER_PID" 15 || bench_error memory_total_rss MiB "$budget_total_mib" \
  "busy phase: the reaper's helpers did not all start"
sleep 1
sample_phase busy "$phase_s"
bench_stop_reaper "$REAPER_PID" 15
wait "$pipeline_pid" 2>/dev/null || true
note "busy: reaper exited (it was not this shell's child; status not available)"

for role in reaper spawner detector api; do
  note "max VmRSS $role: ${max_kb[$role]} kB"
done
bench_result memory_reaper_rss "$(fmt 2 "$max_reaper_kb / 1024")" MiB "$budget_reaper_mib"
bench_result memory_total_rss "$(fmt 2 "$max_total_kb / 1024")" MiB "$budget_total_mib"
