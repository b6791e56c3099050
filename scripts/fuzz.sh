#!/usr/bin/env bash
# FlowForge coverage-guided fuzzing (libFuzzer + AddressSanitizer, through the Swift toolchain): builds the
# targets in fuzz/ and runs each for a bounded time from its committed seed corpus. Exits non-zero on any
# crash, failed property, leak, timeout or out-of-memory, and keeps the input that caused it.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: ./scripts/fuzz.sh [--live FLOWFORGE] [--help] [TARGET...]

Builds fuzz/ with libFuzzer and AddressSanitizer instrumentation and runs each target (default: all of
wire spool-line timestamp config agent-gate) from fuzz/corpus/TARGET. Prints coverage and executions per target.
On a failure it prints the input's path and a hexdump, and exits 1.

  --live FLOWFORGE  then start `FLOWFORGE dashboard` on a throwaway state directory, spool every spool-line
                    input (seeds and what this run found) into it, ask /timeline?before= every timestamp
                    input, and check that /healthz answers 200 throughout and the process stays alive

Environment:
  FUZZ_SECONDS     seconds per target (default 45)
  FUZZ_JOBS        targets run at once (default: 2, or 1 on a single core)
  FUZZ_ARTIFACTS   where failing inputs and logs are kept (default: test-artifacts/fuzz)
  FUZZ_ARGS        extra libFuzzer flags for every target, e.g. "-max_len=8192"
USAGE
}

targets=()
live=""
while (($#)); do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --live) live="${2:?--live needs the flowforge binary}"; shift ;;
        wire|spool-line|timestamp|config|agent-gate) targets+=("$1") ;;
        *) echo "fuzz.sh: unknown target or option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ -z "$live" || -x "$live" ]] || { echo "fuzz.sh: --live $live is not executable" >&2; exit 2; }
[[ ${#targets[@]} -gt 0 ]] || targets=(wire spool-line timestamp config agent-gate)

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-45}"
jobs="${FUZZ_JOBS:-$(( $(nproc) > 1 ? 2 : 1 ))}"
artifacts="${FUZZ_ARTIFACTS:-$repo/test-artifacts/fuzz}"
read -r -a extra <<<"${FUZZ_ARGS:-}"
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "fuzz.sh: FUZZ_SECONDS must be a positive integer" >&2; exit 2; }

# The toolchain carries libFuzzer and the sanitizer runtimes (lib/swift/clang/lib/linux). binutils (readelf, nm)
# checks the instrumentation; curl and python3 drive the live check.
command -v swift >/dev/null || { echo "fuzz.sh: swift is required (the toolchain, with libFuzzer)" >&2; exit 2; }
# shellcheck source=scripts/lib/deps.sh
source "$repo/scripts/lib/deps.sh"
need=()
command -v readelf >/dev/null && command -v nm >/dev/null || need+=(binutils)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
((${#need[@]} == 0)) || ensure_packages "${need[@]}"

echo "==> fuzz: build (fuzz/.build, release with assertions, libFuzzer + ASan)"
# --sanitize=fuzzer: SwiftPM then links libFuzzer's main instead of renaming the targets' entry points, and
#   instruments the C in Yams (-fsanitize=fuzzer); -Xcc -fsanitize=address adds ASan there.
# -Xswiftc -sanitize=fuzzer,address, and not SwiftPM's --sanitize=address: swiftc keeps only the last
#   -sanitize= flag, and SwiftPM writes its sanitizers in a random order (a Set), so half the builds had no
#   coverage counters at all. The -Xswiftc flags come last on every swiftc line, so this one wins.
# -parse-as-library: the targets have no main; libFuzzer's main drives LLVMFuzzerTestOneInput.
# -assert-config Debug: keep assert() in the code under test (release builds drop it), at -O speed.
# shellcheck disable=SC2054 # the commas are swiftc's and clang's list syntax, not array separators
build=(swift build --package-path "$repo/fuzz" --scratch-path "$repo/fuzz/.build" -c release --sanitize=fuzzer
       -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address
       -Xswiftc -parse-as-library -Xswiftc -assert-config -Xswiftc Debug)
mkdir -p "$artifacts"
if ! "${build[@]}" >"$artifacts/build.log" 2>&1; then
    cat "$artifacts/build.log" >&2
    echo "fuzz.sh: the fuzz build failed" >&2
    exit 1
fi
grep -vE "^\[[0-9]+/[0-9]+\]|Cannot export local symbol '__asan_extra_spill_area'" "$artifacts/build.log" || true
bindir="$("${build[@]}" --show-bin-path)"
for target in "${targets[@]}"; do
    [[ -x "$bindir/fuzz-$target" ]] || { echo "fuzz.sh: build failed: no $bindir/fuzz-$target" >&2; exit 1; }
    # Fuzzing without coverage counters would pass while exploring nothing: refuse.
    readelf -S "$bindir/fuzz-$target" | grep __sancov_cntrs >/dev/null ||
        { echo "fuzz.sh: fuzz-$target has no coverage instrumentation (see the build flags above)" >&2; exit 1; }
    nm "$bindir/fuzz-$target" | grep __asan_init >/dev/null ||
        { echo "fuzz.sh: fuzz-$target is not built with AddressSanitizer" >&2; exit 1; }
done

# Only what an earlier run of this script left there: its logs and kept inputs.
for target in "${targets[@]}"; do rm -f "$artifacts/$target.log" "$artifacts/$target"-*; done
rm -f "$artifacts/dashboard.log"
work="$(mktemp -d)"
dashboard_pid=""
cleanup() {
    # Only the dashboard this script started, by its pid.
    if [[ -n "$dashboard_pid" ]] && kill -0 "$dashboard_pid" 2>/dev/null; then
        kill -TERM "$dashboard_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$dashboard_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$dashboard_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# run_target NAME: runs one target; its log is $artifacts/NAME.log, a failing input $artifacts/NAME-crash-*.
run_target() {
    local name="$1" dict=()
    [[ -f "$repo/fuzz/$name.dict" ]] && dict=("-dict=$repo/fuzz/$name.dict")
    mkdir -p "$work/$name"
    # New inputs go to the scratch corpus (first directory); the committed seeds are read only.
    # The Swift runtime's own crash backtracer is off: libFuzzer's handler reports and saves the input.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
        "$bindir/fuzz-$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$name-" "${dict[@]}" "${extra[@]}" "$work/$name" "$repo/fuzz/corpus/$name" \
        >"$artifacts/$name.log" 2>&1
}

echo "==> fuzz: ${targets[*]} (${seconds}s each, $jobs at a time)"
start=$SECONDS
declare -A pid_of status_of
running=0
for target in "${targets[@]}"; do
    if ((running >= jobs)); then wait -n || true; running=$((running - 1)); fi
    run_target "$target" &
    pid_of[$target]=$!
    running=$((running + 1))
done
for target in "${targets[@]}"; do
    if wait "${pid_of[$target]}"; then status_of[$target]=0; else status_of[$target]=$?; fi
done

failed=0
for target in "${targets[@]}"; do
    log="$artifacts/$target.log"
    inited=$(grep -m1 -oE 'INITED cov: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
    final=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$' || echo 0)
    runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    speed=$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    corpus=$(find "$work/$target" -type f | wc -l)
    if [[ "${status_of[$target]}" -eq 0 && "$final" -gt 0 ]]; then
        echo "PASS fuzz-$target: cov $inited -> $final, $runs executions ($speed/s), $corpus new inputs"
        continue
    fi
    failed=1
    echo "FAIL fuzz-$target (exit ${status_of[$target]}, cov $final); log: $log"
    { grep -E 'property violated|Fatal error|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|SUMMARY' "$log" || true; } |
        head -n 5 | sed 's/^/    /'
    for input in "$artifacts/$target"-*; do
        [[ -f "$input" ]] || continue
        echo "    input kept: $input ($(wc -c <"$input") bytes); replay: $bindir/fuzz-$target $input"
        od -A x -t x1z -v "$input" | head -n 16 | sed 's/^/      /'
    done
    [[ "${status_of[$target]}" -ne 0 || "$final" -gt 0 ]] || echo "    no coverage counted: the target is not instrumented"
done
echo "==> fuzz: $((SECONDS - start))s of fuzzing"

# live_check: the same hostile inputs against a real dashboard process (issue 10: the processes stay alive and
# /healthz answers throughout). Prints PASS/FAIL; returns non-zero on a failure.
live_check() {
    local state="$work/state" port url code lines=0 asked=0 bad=0 input
    mkdir -p "$state/runs" && chmod 700 "$state"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    url="http://127.0.0.1:$port"
    FLOWFORGE_STATE_DIR="$state" "$live" dashboard --listen "127.0.0.1:$port" >"$artifacts/dashboard.log" 2>&1 &
    dashboard_pid=$!
    for _ in $(seq 1 100); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    healthy() { [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/healthz")" == 200 ]]; }
    healthy || { echo "FAIL live: the dashboard did not answer /healthz (log: $artifacts/dashboard.log)"; return 1; }
    # Spool lines: every seed and every input this run kept, one spool per batch of 100 so that ingestion runs
    # between batches; after each, the dashboard must still be up and answer every read endpoint.
    local spool="" n=0
    while IFS= read -r -d '' input; do
        if ((n % 100 == 0)); then
            if [[ -n "$spool" ]]; then
                sleep 1.5
                healthy || { bad=1; break; }
                for path in /timeline /runs /metrics; do
                    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url$path")"
                    [[ "$code" != 000 ]] || { echo "    no answer to $path after $spool"; bad=1; }
                done
            fi
            spool="$state/runs/fuzz-$((n / 100)).jsonl"
            install -m 600 /dev/null "$spool"
        fi
        { tr -d '\n' <"$input"; echo; } >>"$spool"
        n=$((n + 1)); lines=$((lines + 1))
    done < <(find "$repo/fuzz/corpus/spool-line" "$work/spool-line" -type f -print0 2>/dev/null | head -z -n 1000)
    sleep 1.5
    # Timestamps: /timeline?before= with every timestamp seed and kept input (400 or 200, never a dead process).
    while IFS= read -r -d '' input; do
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -G "$url/timeline" --data-urlencode "before@$input")"
        [[ "$code" != 000 ]] || { echo "    no answer to /timeline?before=$(od -An -c "$input" | head -n 1)"; bad=1; break; }
        asked=$((asked + 1))
    done < <(find "$repo/fuzz/corpus/timestamp" "$work/timestamp" -type f -size -200c -print0 2>/dev/null | head -z -n 500)
    if ((bad == 0)) && healthy && kill -0 "$dashboard_pid" 2>/dev/null; then
        echo "PASS live: dashboard up and /healthz 200 after $lines spool lines and $asked /timeline?before= requests"
        return 0
    fi
    echo "FAIL live: the dashboard stopped answering (log: $artifacts/dashboard.log)"
    tail -n 20 "$artifacts/dashboard.log" | sed 's/^/    /'
    return 1
}
if [[ -n "$live" ]]; then
    echo "==> fuzz: live check against $live dashboard"
    command -v curl >/dev/null || { echo "fuzz.sh: --live needs curl" >&2; exit 2; }
    live_check || failed=1
fi
if ((failed)); then
    echo "fuzz.sh: FAILED; fix the bug, then add the kept input to fuzz/corpus/TARGET/ and a unit test (fuzz/README.md)" >&2
    exit 1
fi
echo "fuzz.sh: all targets passed"
