#!/usr/bin/env bash
# Budget 5: `flowforge run -- true` adds at most 50 ms of wall time over `true`.
#
# With hyperfine (Debian package `hyperfine`) when installed, else a bash loop timing with
# EPOCHREALTIME. Both commands run the same way: `sh -c 'echo $$ >>PIDS; exec env SCOPE=... CMD'`
# (the PID file lets the cleanup find leftover cgroups of these reapers; the wrapper costs both sides
# the same). The figure is median(flowforge) - median(true); p90s are in the notes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

usage="Usage: bench/startup.sh [--quick] [--help]

Wall time added by 'flowforge run -- true' over 'true' (default settings). Prints:
  BENCH startup_overhead <ms> ms budget 50 <PASS|OVER>
Uses hyperfine when installed (apt-get install -y hyperfine), otherwise (or with BENCH_NO_HYPERFINE=1)
a bash loop.
  --quick   10 runs each instead of 40"
bench_parse_args "$usage" "$@"
bench_init startup

runs=40
warmup=3
if [[ "$BENCH_QUICK" == 1 ]]; then
  runs=10
  warmup=2
fi
budget=50
pids="$BENCH_TMP/reapers"
: >"$pids"
cmd_true="echo \$\$ >>$pids; exec env FLOWFORGE_DRILL_SCOPE=$BENCH_SCOPE true"
cmd_ff="echo \$\$ >>$pids; exec env FLOWFORGE_DRILL_SCOPE=$BENCH_SCOPE $FLOWFORGE run -- true"
[[ "$pids$FLOWFORGE$BENCH_SCOPE" != *[[:space:]\'\"]* ]] ||
  bench_error startup_overhead ms "$budget" "paths with spaces or quotes are not supported here"

true_ms=()
ff_ms=()
if [[ -z "${BENCH_NO_HYPERFINE:-}" ]] && command -v hyperfine >/dev/null 2>&1; then
  tool="hyperfine $(hyperfine --version | awk '{ print $2 }') (shell sh, its spawn time subtracted)"
  hyperfine --shell=sh --warmup "$warmup" --runs "$runs" --style none \
    --export-json "$BENCH_TMP/hyperfine.json" -n true "$cmd_true" -n flowforge "$cmd_ff" \
    >"$BENCH_TMP/hyperfine.out" 2>&1 || bench_error startup_overhead ms "$budget" \
    "hyperfine failed: $(tail -n 3 "$BENCH_TMP/hyperfine.out")"
  # One line per command: name then its times in ms.
  while read -r name times; do
    read -r -a values <<<"$times"
    case "$name" in
      true) true_ms=("${values[@]}") ;;
      flowforge) ff_ms=("${values[@]}") ;;
    esac
  done < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], " ".join("%.3f" % (t * 1000) for t in r["times"]))
' "$BENCH_TMP/hyperfine.json")
else
  tool="bash loop (EPOCHREALTIME around sh -c; hyperfine not used)"
  time_cmd() {
    local t0 t1
    t0=$(now_us)
    sh -c "$1" >/dev/null 2>&1 || true
    t1=$(now_us)
    fmt 3 "($t1 - $t0) / 1000"
  }
  for ((i = 0; i < warmup; i++)); do
    time_cmd "$cmd_true" >/dev/null
    time_cmd "$cmd_ff" >/dev/null
  done
  for ((i = 0; i < runs; i++)); do
    if ((i % 2)); then
      true_ms+=("$(time_cmd "$cmd_true")")
      ff_ms+=("$(time_cmd "$cmd_ff")")
    else
      ff_ms+=("$(time_cmd "$cmd_ff")")
      true_ms+=("$(time_cmd "$cmd_true")")
    fi
  done
fi
while read -r p; do
  [[ "$p" =~ ^[0-9]+$ ]] && bench_record_reaper "$p"
done <"$pids"

((${#true_ms[@]} > 0 && ${#ff_ms[@]} > 0)) || bench_error startup_overhead ms "$budget" "no timings collected"
mt=$(stats median "${true_ms[@]}")
mf=$(stats median "${ff_ms[@]}")
pt=$(stats p90 "${true_ms[@]}")
pf=$(stats p90 "${ff_ms[@]}")
note "tool: $tool; ${#ff_ms[@]} runs each after $warmup warm-up runs"
note "true:      median $(fmt 2 "$mt") ms, p90 $(fmt 2 "$pt") ms, min $(fmt 2 "$(stats min "${true_ms[@]}")") ms," \
  "max $(fmt 2 "$(stats max "${true_ms[@]}")") ms"
note "flowforge: median $(fmt 2 "$mf") ms, p90 $(fmt 2 "$pf") ms, min $(fmt 2 "$(stats min "${ff_ms[@]}")") ms," \
  "max $(fmt 2 "$(stats max "${ff_ms[@]}")") ms"
note "added: median $(fmt 2 "$mf - $mt") ms, p90 $(fmt 2 "$pf - $pt") ms"
bench_result startup_overhead "$(fmt 2 "$mf - $mt")" ms "$budget"
