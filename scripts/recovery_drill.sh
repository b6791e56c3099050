#!/usr/bin/env bash
# Runs the FlowForge recovery drills (scripts/drills/drill_NN_*.sh) against the flowforge
# binary: each drill once normally (must PASS) and once with its guarantee disabled (must FAIL).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/test_functions.sh
source "$script_dir/lib/test_functions.sh"

drills_dir="$script_dir/drills"
repo_root="$FF_REPO_ROOT"
drill_timeout_s=${FLOWFORGE_DRILL_TIMEOUT:-120}

usage() {
  cat <<EOF
Usage: $(basename "$0") [--bin PATH] [--only NN] [--skip-negative] [--help]

Runs the FlowForge recovery drills in $drills_dir.
Each drill runs twice: normally (it must PASS) and as a negative control with its
guarantee switched off through FLOWFORGE_TEST_DISABLE (it must FAIL; that is reported
as "PASS (negative control failed as expected)").  Ends with "N passed, M failed" and
exits non-zero if anything failed.

Options:
  --bin PATH       flowforge binary to test (default: \$FLOWFORGE, else
                   <repo>/.build/debug/flowforge, built with 'swift build' if missing)
  --only NN        run only drill NN (e.g. 03 or 3)
  --skip-negative  skip the negative-control runs
  -h, --help       show this help

Environment:
  FLOWFORGE                 binary to test when --bin is not given
  FLOWFORGE_DRILL_TIMEOUT   seconds one drill run may take (default 120)
  FLOWFORGE_DRILL_KEEP_TMP  set to keep each drill's temp dir (worker scripts, reaper log)

Exit status: 0 all passed, 1 a drill or negative control failed (or the binary could not
be built), 2 bad usage.
EOF
}

usage_error() {
  printf '%s: %s\n' "$(basename "$0")" "$1" >&2
  printf "Try '%s --help' for more information.\n" "$(basename "$0")" >&2
  exit 2
}

bin_arg=""
only=""
skip_negative=0
while (($# > 0)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --bin)
      (($# >= 2)) || usage_error "option --bin needs a PATH argument"
      bin_arg=$2
      shift 2
      ;;
    --bin=*)
      bin_arg=${1#--bin=}
      shift
      ;;
    --only)
      (($# >= 2)) || usage_error "option --only needs a drill number (NN)"
      only=$2
      shift 2
      ;;
    --only=*)
      only=${1#--only=}
      shift
      ;;
    --skip-negative)
      skip_negative=1
      shift
      ;;
    *)
      usage_error "unknown option '$1'"
      ;;
  esac
done
if [[ -n "$bin_arg" && -z "${bin_arg// /}" ]]; then
  usage_error "option --bin needs a non-empty PATH"
fi

# Select the drills.
shopt -s nullglob
all_drills=("$drills_dir"/drill_[0-9][0-9]_*.sh)
shopt -u nullglob
((${#all_drills[@]} > 0)) || usage_error "no drills found in $drills_dir"
selected=()
if [[ -n "$only" ]]; then
  [[ "$only" =~ ^[0-9]{1,2}$ ]] || usage_error "--only expects a drill number such as 03, got '$only'"
  only=$(printf '%02d' "$((10#$only))")
  for drill in "${all_drills[@]}"; do
    [[ "$(basename "$drill")" == "drill_${only}_"* ]] && selected+=("$drill")
  done
  ((${#selected[@]} > 0)) || usage_error "no drill numbered $only in $drills_dir"
else
  selected=("${all_drills[@]}")
fi

# Resolve (and if needed build) the binary.
if [[ -n "$bin_arg" ]]; then
  FLOWFORGE=$bin_arg
  [[ -x "$FLOWFORGE" ]] || usage_error "--bin: not an executable file: $FLOWFORGE"
elif [[ -n "${FLOWFORGE:-}" ]]; then
  [[ -x "$FLOWFORGE" ]] || usage_error "FLOWFORGE is set but not an executable file: $FLOWFORGE"
else
  FLOWFORGE=$FF_DEFAULT_BIN
  if [[ ! -x "$FLOWFORGE" ]]; then
    printf 'flowforge binary not found at %s; running swift build in %s\n' "$FLOWFORGE" "$repo_root"
    if ! (cd "$repo_root" && swift build); then
      printf 'FAIL: swift build failed; no binary to drill\n'
      exit 1
    fi
    if [[ ! -x "$FLOWFORGE" ]]; then
      printf 'FAIL: swift build succeeded but %s does not exist\n' "$FLOWFORGE"
      exit 1
    fi
  fi
fi
FLOWFORGE=$(cd "$(dirname "$FLOWFORGE")" && pwd)/$(basename "$FLOWFORGE")
export FLOWFORGE
unset FLOWFORGE_TEST_DISABLE

# negative_guarantee DRILL_FILE: the guarantee named by its "# negative-control:" line.
negative_guarantee() {
  local line
  while IFS= read -r line; do
    if [[ "$line" =~ ^#\ negative-control:\ ([a-z-]+)$ ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"
      return 0
    fi
  done <"$1"
  return 1
}

passed=0
failed=0
run_log=$(mktemp "${TMPDIR:-/tmp}/flowforge-recovery-drill.XXXXXX")
run_tag="run-$$-$RANDOM$RANDOM"
trap 'rm -f -- "$run_log"' EXIT

# run_drill DRILL_FILE DISABLE: runs one drill (bounded by timeout) with its output in
# $run_log; sets drill_rc.  Sweeps anything the drill left behind (if it was killed).
run_drill() {
  local drill=$1 disable=$2 leftovers
  drill_rc=0
  env ${disable:+"FLOWFORGE_TEST_DISABLE=$disable"} "FLOWFORGE_DRILL_RUN=$run_tag" \
    timeout --kill-after=10 "$drill_timeout_s" bash "$drill" </dev/null >"$run_log" 2>&1 ||
    drill_rc=$?
  leftovers=$(kill_env_pids "FLOWFORGE_DRILL_RUN=$run_tag")
  if ((leftovers > 0)); then
    printf '  (runner swept %s leftover process(es) after this run)\n' "$leftovers" >>"$run_log"
  fi
}

show_log() {
  sed 's/^/    /' "$run_log"
}

# first_reason: the drill's FAIL/ERROR line, for context on negative controls.
first_reason() {
  local line
  while IFS= read -r line; do
    if [[ "$line" == FAIL:* || "$line" == ERROR:* ]]; then
      printf '%s\n' "$line"
      return 0
    fi
  done <"$run_log"
  printf '(no reason printed)\n'
}

describe_rc() {
  case "$1" in
    0) printf 'passed' ;;
    1) printf 'failed' ;;
    2) printf 'could not set up its precondition (exit 2)' ;;
    124 | 137) printf 'timed out after %s s' "$drill_timeout_s" ;;
    *) printf 'exited with status %s' "$1" ;;
  esac
}

printf 'FlowForge recovery drills: binary %s\n' "$FLOWFORGE"
for drill in "${selected[@]}"; do
  name=$(basename "$drill" .sh)

  run_drill "$drill" ""
  if ((drill_rc == 0)); then
    printf 'PASS %s\n' "$name"
    passed=$((passed + 1))
  else
    printf 'FAIL %s (%s)\n' "$name" "$(describe_rc "$drill_rc")"
    show_log
    failed=$((failed + 1))
  fi

  ((skip_negative == 1)) && continue
  if ! guarantee=$(negative_guarantee "$drill"); then
    printf 'FAIL %s [negative control] (the drill names no "# negative-control:" guarantee)\n' "$name"
    failed=$((failed + 1))
    continue
  fi
  label="$name [negative: FLOWFORGE_TEST_DISABLE=$guarantee]"
  run_drill "$drill" "$guarantee"
  if ((drill_rc == 1)); then
    printf 'PASS %s (negative control failed as expected: %s)\n' "$label" "$(first_reason)"
    passed=$((passed + 1))
  elif ((drill_rc == 0)); then
    printf 'FAIL %s (negative control unexpectedly passed)\n' "$label"
    show_log
    failed=$((failed + 1))
  else
    printf 'FAIL %s (negative control %s)\n' "$label" "$(describe_rc "$drill_rc")"
    show_log
    failed=$((failed + 1))
  fi
done

printf '%s passed, %s failed\n' "$passed" "$failed"
((failed == 0))
