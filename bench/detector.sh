#!/usr/bin/env bash
# Budget: the detector agent keeps up with a worker printing 10,000 lines/s at most 5% of one core and
# 32 MiB (VmHWM), with detection v2's per-record work (values, identities, JSON, vocabulary).
#
# The worker prints 10,000 short lines a second (about 27 bytes each, 270 KB/s: at the reaper's analysis
# budget of 256 KiB/s, so the detector really gets nearly all of them), every line with a new job id:
# the worst case for the detector's memory of identities. CPU is utime+stime of the detector process
# over the window; memory is its VmHWM at the end.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

usage="Usage: bench/detector.sh [--quick] [--help]

Measures the detector agent's CPU and peak memory while the worker prints 10,000 lines/s.
Prints:
  BENCH detector_cpu <percent of one core> %core budget 5 <PASS|OVER>
  BENCH detector_hwm <MiB> MiB budget 32 <PASS|OVER>
  --quick   a 10 s window instead of 30 s"
bench_parse_args "$usage" "$@"
bench_init detector

window_s=30
settle_s=3
if [[ "$BENCH_QUICK" == 1 ]]; then
  window_s=10
fi
hz=$(getconf CLK_TCK)
cpu_budget=5
mem_budget=32

# The worker: 10,000 lines/s in 100 batches of 100, each line with a new 12-hex job id.
worker=$(cat <<'PY'
import os, sys, time
out = sys.stdout
start = time.time()
n = 0
while True:
    batch = "".join("job %012x done %d\n" % ((n + k) * 2654435761 % (1 << 48), (n + k) % 97) for k in range(100))
    out.write(batch)
    out.flush()
    n += 100
    delay = start + n / 10000.0 - time.time()
    if delay > 0:
        time.sleep(delay)
PY
)
bench_start_reaper "$BENCH_TMP/reaper.log" --max-cpu 150 -- python3 -c "$worker"
bench_find_helpers "$REAPER_PID" 15 || bench_error detector_cpu %core "$cpu_budget" "the reaper's helpers did not all start"
sleep "$settle_s"
ref=$(proc_ref "$DETECTOR_PID")
t0=$(now_us)
ticks0=$(proc_cpu_ticks "$DETECTOR_PID") || bench_error detector_cpu %core "$cpu_budget" "the detector is gone"
wticks0=$(proc_cpu_ticks "$WORKER_PID") || bench_error detector_cpu %core "$cpu_budget" "the worker is gone"
sleep "$window_s"
ticks1=$(proc_cpu_ticks "$DETECTOR_PID") || bench_error detector_cpu %core "$cpu_budget" "the detector is gone"
wticks1=$(proc_cpu_ticks "$WORKER_PID") || true
t1=$(now_us)
hwm_kb=$(proc_status_kb "$DETECTOR_PID" VmHWM)
[[ "$(proc_ref "$DETECTOR_PID")" == "$ref" ]] || bench_error detector_cpu %core "$cpu_budget" "the detector was replaced during the window"
lines=$(wc -l <"$BENCH_TMP/reaper.log")
elapsed_s=$(fmt 3 "($t1 - $t0) / 1000000")
note "window ${elapsed_s} s; worker used $(fmt 1 "(${wticks1:-$wticks0} - $wticks0) * 100 / $hz / $elapsed_s")% of a core;" \
  "$lines lines passed through in the whole run"
bench_stop_reaper "$REAPER_PID" 15
bench_result detector_cpu "$(fmt 2 "($ticks1 - $ticks0) * 100 / $hz / $elapsed_s")" %core "$cpu_budget"
bench_result detector_hwm "$(fmt 1 "$hwm_kb / 1024")" MiB "$mem_budget"
