#!/usr/bin/env bash
# Budget 3: output passthrough. A worker writing 1 GiB to stdout in 4 KiB writes
# (dd if=/dev/zero bs=4096 count=262144) finishes under FlowForge within 1.25x the time of the same
# worker piped straight into cat:
#   flowforge run --log-level error -- WORKER | cat >/dev/null      versus      WORKER | cat >/dev/null
# Repetitions are interleaved (the order rotates each repetition); the figure is
# median(flowforge) / median(direct). For reference (not judged) it also times a plain userspace relay,
# WORKER | cat | cat >/dev/null: the same extra pipe hop with the simplest possible relay in it;
# and the same ratio for a text worker (yes LINE | dd bs=4096 iflag=fullblock: 4 KiB writes of
# newline-terminated lines), because /dev/zero has no newlines and the detector copy is line-based.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

usage="Usage: bench/passthrough.sh [--quick] [--help]

Times a 1 GiB stdout stream (4 KiB writes) through FlowForge against a plain pipe. Prints:
  BENCH passthrough_ratio <ratio> x budget 1.25 <PASS|OVER>
  --quick   256 MiB and 3 repetitions instead of 1 GiB and 7
Note lines also give, for reference only, the ratio of WORKER | cat | cat >/dev/null (a plain relay)
and the ratio for a text worker (log lines instead of zero bytes)."
bench_parse_args "$usage" "$@"
bench_init passthrough

count=262144 # 4 KiB blocks: 1 GiB
reps=7
if [[ "$BENCH_QUICK" == 1 ]]; then
  count=65536
  reps=3
fi
budget=1.25
mib=$((count * 4096 / 1048576))
worker=(dd if=/dev/zero bs=4096 "count=$count" status=none)
text_line='2026-01-01T00:00:00Z INFO worker: request id=4711 path=/api/v1/items status=200 took=12ms'
# shellcheck disable=SC2016 # expanded by the worker's sh, not here
text_worker=(sh -c 'yes "$1" | dd bs=4096 count="$2" iflag=fullblock status=none' sh "$text_line" "$count")

# direct [text]: WORKER | cat >/dev/null; prints the elapsed µs.
run_direct() {
  local t0 t1
  local -a w=("${worker[@]}")
  [[ "${1:-}" == text ]] && w=("${text_worker[@]}")
  t0=$(now_us)
  ("${w[@]}") | cat >/dev/null
  t1=$(now_us)
  printf '%s\n' "$((t1 - t0))"
}

# cat_relay: WORKER | cat | cat >/dev/null (reference: one extra hop through a plain relay).
run_cat_relay() {
  local t0 t1
  t0=$(now_us)
  ("${worker[@]}") | cat | cat >/dev/null
  t1=$(now_us)
  printf '%s\n' "$((t1 - t0))"
}

# via_flowforge [text]: flowforge run --log-level error -- WORKER | cat >/dev/null; prints the elapsed µs.
# The subshell that becomes the reaper (exec) writes its PID first, for the cleanup.
run_flowforge() {
  local t0 t1 status
  local -a w=("${worker[@]}")
  [[ "${1:-}" == text ]] && w=("${text_worker[@]}")
  t0=$(now_us)
  (
    printf '%s\n' "$BASHPID" >>"$BENCH_TMP/reapers"
    exec env FLOWFORGE_DRILL_SCOPE="$BENCH_SCOPE" "$FLOWFORGE" run --log-level error -- "${w[@]}" 2>>"$BENCH_TMP/ff.err"
  ) | cat >/dev/null
  status=${PIPESTATUS[0]}
  t1=$(now_us)
  if ((status != 0)); then
    note "flowforge exited with status $status (stderr: $(tail -n 3 "$BENCH_TMP/ff.err"))" >&2
    return 1
  fi
  printf '%s\n' "$((t1 - t0))"
}

record_reapers() {
  local p
  if [[ -s "$BENCH_TMP/reapers" ]]; then
    while read -r p; do bench_record_reaper "$p"; done <"$BENCH_TMP/reapers"
    : >"$BENCH_TMP/reapers"
  fi
}

# Byte-exactness check (not timed): the whole stream must come out.
bytes=$(
  (
    printf '%s\n' "$BASHPID" >>"$BENCH_TMP/reapers"
    exec env FLOWFORGE_DRILL_SCOPE="$BENCH_SCOPE" "$FLOWFORGE" run --log-level error -- "${worker[@]}" 2>>"$BENCH_TMP/ff.err"
  ) | wc -c
)
record_reapers
if ((bytes != count * 4096)); then
  bench_error passthrough_ratio x "$budget" "flowforge passed $bytes bytes, expected $((count * 4096))"
fi
note "byte count through flowforge: $bytes (as expected); $reps repetitions of $mib MiB, interleaved"

direct=()
viaff=()
relay=()
for ((i = 1; i <= reps; i++)); do
  case $((i % 3)) in
    1) order="direct flowforge relay" ;;
    2) order="flowforge relay direct" ;;
    *) order="relay direct flowforge" ;;
  esac
  for kind in $order; do
    case $kind in
      direct) d=$(run_direct) ;;
      relay) r=$(run_cat_relay) ;;
      flowforge) f=$(run_flowforge) || bench_error passthrough_ratio x "$budget" "flowforge run failed" ;;
    esac
  done
  record_reapers
  direct+=("$d")
  viaff+=("$f")
  relay+=("$r")
  note "rep $i: direct $(fmt 3 "$d / 1000000") s, flowforge $(fmt 3 "$f / 1000000") s (ratio $(fmt 3 "$f / $d"))," \
    "cat relay $(fmt 3 "$r / 1000000") s (ratio $(fmt 3 "$r / $d"))"
done

md=$(stats median "${direct[@]}")
mf=$(stats median "${viaff[@]}")
note "direct:    median $(fmt 3 "$md / 1000000") s ($(fmt 0 "$mib / ($md / 1000000)") MiB/s)," \
  "min $(fmt 3 "$(stats min "${direct[@]}") / 1000000") s, max $(fmt 3 "$(stats max "${direct[@]}") / 1000000") s"
note "flowforge: median $(fmt 3 "$mf / 1000000") s ($(fmt 0 "$mib / ($mf / 1000000)") MiB/s)," \
  "min $(fmt 3 "$(stats min "${viaff[@]}") / 1000000") s, max $(fmt 3 "$(stats max "${viaff[@]}") / 1000000") s"
# Text worker (reference): fewer repetitions, same interleaving.
text_reps=$(((reps + 1) / 2))
text_direct=()
text_ff=()
for ((i = 1; i <= text_reps; i++)); do
  if ((i % 2)); then
    d=$(run_direct text)
    f=$(run_flowforge text) || bench_error passthrough_ratio x "$budget" "flowforge run (text worker) failed"
  else
    f=$(run_flowforge text) || bench_error passthrough_ratio x "$budget" "flowforge run (text worker) failed"
    d=$(run_direct text)
  fi
  record_reapers
  text_direct+=("$d")
  text_ff+=("$f")
  note "text rep $i: direct $(fmt 3 "$d / 1000000") s, flowforge $(fmt 3 "$f / 1000000") s (ratio $(fmt 3 "$f / $d"))"
done
tmd=$(stats median "${text_direct[@]}")
tmf=$(stats median "${text_ff[@]}")

mr=$(stats median "${relay[@]}")
note "cat relay: median $(fmt 3 "$mr / 1000000") s ($(fmt 0 "$mib / ($mr / 1000000)") MiB/s);" \
  "reference ratio cat-relay/direct $(fmt 3 "$mr / $md"), flowforge/cat-relay $(fmt 3 "$mf / $mr")"
note "text worker (reference, not judged): direct median $(fmt 3 "$tmd / 1000000") s," \
  "flowforge median $(fmt 3 "$tmf / 1000000") s, ratio $(fmt 3 "$tmf / $tmd")"
bench_result passthrough_ratio "$(fmt 3 "$mf / $md")" x "$budget"
