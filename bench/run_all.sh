#!/usr/bin/env bash
# Runs the FlowForge performance benchmarks (one script per budget) against the release build and
# collects their result lines. Informational: not part of the test suite; see docs/BENCHMARKS.md.
# teardown runs last: its 1,000 short-lived processes push the load average up for a minute.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
all_benches=(memory idle_cpu passthrough startup detector teardown)

usage() {
  cat <<USAGE
Usage: bench/run_all.sh [--quick] [--no-build] [--strict] [--out FILE] [BENCH...]

Runs the benchmarks (default: all of ${all_benches[*]}) against the release
build and prints each result line and a summary:
  BENCH <name> <value> <unit> budget <budget> <PASS|OVER|ERROR>

  --quick      shorter runs (fewer repetitions, smaller streams, 15 s idle window): about 1 min
               instead of about 3 min; coarser figures
  --no-build   do not run 'swift build -c release' when the binary is missing or older than the sources
  --strict     exit 1 when a figure is OVER budget (default: exit 0 whenever everything was measured)
  --out FILE   also write the machine details and the BENCH lines to FILE
  --help       show this help

Environment: FLOWFORGE=path to a flowforge binary to measure instead of .build/release/flowforge
(no build check then). Exit status: 0 measured, 1 over budget with --strict, 2 a bench could not
measure or the build failed.

The machine is shared and noisy: each figure is a median or ratio within one run; compare runs only
on the same machine, and never gate tests on these numbers.
USAGE
}

quick=0
build=1
strict=0
out=""
selected=()
while (($# > 0)); do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --strict) strict=1 ;;
    --out)
      (($# >= 2)) || {
        echo "run_all.sh: --out needs a file" >&2
        exit 2
      }
      out=$2
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      echo "run_all.sh: unknown option '$1' (see --help)" >&2
      exit 2
      ;;
    *)
      if [[ " ${all_benches[*]} " != *" $1 "* ]]; then
        echo "run_all.sh: unknown bench '$1' (one of: ${all_benches[*]})" >&2
        exit 2
      fi
      selected+=("$1")
      ;;
  esac
  shift
done
((${#selected[@]} > 0)) || selected=("${all_benches[@]}")

unset PYTHONUNBUFFERED

# --- the binary -------------------------------------------------------------------------------------
if [[ -n "${FLOWFORGE:-}" ]]; then
  [[ -x "$FLOWFORGE" ]] || {
    echo "run_all.sh: FLOWFORGE=$FLOWFORGE is not executable" >&2
    exit 2
  }
else
  FLOWFORGE="$repo/.build/release/flowforge"
  stale=""
  if [[ ! -x "$FLOWFORGE" ]]; then
    stale="missing"
  elif [[ -n "$(find "$repo/Sources" "$repo/Package.swift" -newer "$FLOWFORGE" -type f -print -quit 2>/dev/null)" ]]; then
    stale="older than the sources"
  fi
  if [[ -n "$stale" ]]; then
    if ((build == 0)); then
      echo "run_all.sh: $FLOWFORGE is $stale (and --no-build was given)" >&2
      [[ "$stale" == missing ]] && exit 2
    else
      echo "==> $FLOWFORGE is $stale: swift build -c release"
      if ! (cd "$repo" && swift build -c release 2>&1 | tail -n 5); then
        echo "run_all.sh: the release build failed" >&2
        exit 2
      fi
      [[ -x "$FLOWFORGE" ]] || {
        echo "run_all.sh: no $FLOWFORGE after the build" >&2
        exit 2
      }
    fi
  fi
fi
export FLOWFORGE

# --- machine details ---------------------------------------------------------------------------------
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$repo" status --porcelain -- Sources Package.swift 2>/dev/null)" ]]; then
  commit="$commit+uncommitted-source-changes"
fi
header=(
  "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  "machine:  nproc $(nproc), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
  "cpu:      $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  "binary:   $FLOWFORGE (built $(date -u -r "$FLOWFORGE" '+%Y-%m-%d %H:%M UTC'); HEAD at start $commit)"
  "mode:     $([[ $quick == 1 ]] && echo quick || echo full)"
)
printf '%s\n' "${header[@]}"

# idle_percent: share of CPU time idle over the next second, all cores (how quiet the machine is).
idle_percent() {
  local a b
  read -r -a a < <(head -n 1 /proc/stat)
  sleep 1
  read -r -a b < <(head -n 1 /proc/stat)
  awk -v i0="${a[4]}" -v i1="${b[4]}" -v t0="$(IFS=+; echo "$((${a[*]:1}))")" -v t1="$(IFS=+; echo "$((${b[*]:1}))")" \
    'BEGIN { d = t1 - t0; p = 0; if (d > 0) p = 100 * (i1 - i0) / d; printf "%.0f%%\n", p }'
}

# --- the benches -------------------------------------------------------------------------------------
results=()
errors=0
over=0
args=()
((quick == 1)) && args+=(--quick)
for bench in "${selected[@]}"; do
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  idle_before=$(idle_percent)
  start=$(date +%s)
  echo "==> $bench (load average $load_before, CPU idle $idle_before in the second before)"
  log=$(mktemp "${TMPDIR:-/tmp}/flowforge-bench-$bench.XXXXXX.log")
  rc=0
  bash "$here/$bench.sh" "${args[@]}" 2>&1 | tee "$log" || rc=$?
  lines=$(grep '^BENCH ' "$log" || true)
  rm -f -- "$log"
  if [[ -z "$lines" ]]; then
    lines="BENCH $bench n/a - budget - ERROR"
  fi
  if ((rc != 0)) && [[ "$lines" != *ERROR* ]]; then
    lines+=$'\n'"BENCH $bench n/a - budget - ERROR"
  fi
  while IFS= read -r line; do
    results+=("$line	(idle before ${idle_before}, load ${load_before}, $(($(date +%s) - start)) s)")
    case "$line" in
      *" OVER") over=$((over + 1)) ;;
      *" ERROR") errors=$((errors + 1)) ;;
    esac
  done <<<"$lines"
done

echo
echo "==> summary"
printf '%s\n' "${results[@]}"
echo "$(( ${#results[@]} - over - errors )) within budget, $over over budget, $errors error(s)"
if [[ -n "$out" ]]; then
  {
    printf '%s\n' "${header[@]}"
    printf '%s\n' "${results[@]}"
  } >"$out"
fi

((errors > 0)) && exit 2
((strict == 1 && over > 0)) && exit 1
exit 0
