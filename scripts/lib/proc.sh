#!/usr/bin/env bash
# /proc readers and the marker scan, shared by the drills (scripts/lib/test_functions.sh) and the
# benches (bench/lib.sh). The Swift tests' side is Tests/FlowForgeTestSupport/ProcFS.swift.
# shellcheck shell=bash
#
# Sets no shell options (the callers run with `set -euo pipefail`).
#
# One marker for tests, drills and benches:
#   * FLOWFORGE_DRILL_MARKER=<marker> tags a worker tree (put there with env(1), or by a Swift test into
#     FlowForge's environment). Survivors are found by that exact environment entry, never by name.
#   * FLOWFORGE_DRILL_SCOPE=<marker> is given to a reaper (and so inherited by its helpers and the worker),
#     used only by cleanup traps to SIGKILL everything a script started.
# A process is "live" when /proc/PID/stat is readable and its state is not Z/X (zombies count as gone).
# Where a (pid, starttime) pair was recorded, a live process with another start time is a different
# process (PID reuse) and also counts as gone.

if [[ -n "${FF_PROC_LIB_LOADED:-}" ]]; then
  return 0
fi
FF_PROC_LIB_LOADED=1

# shellcheck disable=SC2034 # used by the scripts that source this file
readonly FF_MARKER_VAR=FLOWFORGE_DRILL_MARKER
# shellcheck disable=SC2034
readonly FF_SCOPE_VAR=FLOWFORGE_DRILL_SCOPE

# make_marker PREFIX: prints "<prefix>-<pid>-<random>".
make_marker() {
  local rnd
  rnd=$(od -An -N6 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n') || rnd=""
  [[ -n "$rnd" ]] || rnd="$RANDOM$RANDOM$RANDOM"
  printf '%s-%s-%s\n' "$1" "$$" "$rnd"
}

# proc_read_stat PID: fills the global array PROC_STAT with the fields of /proc/PID/stat that follow
# "(comm)": [0]=state [1]=ppid [2]=pgrp [3]=session [11]=utime [12]=stime [19]=starttime.
# Returns 1 when the process does not exist (or vanished while reading).
proc_read_stat() {
  local line=""
  PROC_STAT=()
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
  [[ -n "$line" ]] || return 1
  line=${line##*) }
  read -r -a PROC_STAT <<<"$line"
  return 0
}

# proc_is_live PID [STARTTIME]: true when PID exists, is not a zombie and (if given) still has that
# start time.
proc_is_live() {
  [[ -n "${1:-}" ]] || return 1
  proc_read_stat "$1" || return 1
  case "${PROC_STAT[0]}" in
    Z | X | x) return 1 ;;
  esac
  [[ -z "${2:-}" || "${PROC_STAT[19]}" == "$2" ]]
}

# proc_starttime PID: the start time (clock ticks since boot) of PID.
proc_starttime() {
  proc_read_stat "$1" || return 1
  printf '%s\n' "${PROC_STAT[19]}"
}

# proc_field PID INDEX: prints PROC_STAT[INDEX] (1=ppid 2=pgrp 3=session).
proc_field() {
  proc_read_stat "$1" || return 1
  printf '%s\n' "${PROC_STAT[$2]}"
}

# proc_ref PID: prints "pid:starttime" (an identity that survives PID reuse).
proc_ref() {
  proc_read_stat "$1" || return 1
  printf '%s:%s\n' "$1" "${PROC_STAT[19]}"
}

# proc_ref_is_live PID:STARTTIME
proc_ref_is_live() {
  proc_is_live "${1%%:*}" "${1#*:}"
}

# proc_cpu_ticks PID: utime + stime in clock ticks (all threads).
proc_cpu_ticks() {
  proc_read_stat "$1" || return 1
  printf '%s\n' "$((PROC_STAT[11] + PROC_STAT[12]))"
}

# proc_runtime_all_ns PID: time on CPU in ns, summed over the live threads' /proc/PID/task/*/schedstat.
proc_runtime_all_ns() {
  local pid=$1 f total=0 run rest
  for f in /proc/"$pid"/task/*/schedstat; do
    { read -r run rest <"$f"; } 2>/dev/null || continue
    : "$rest"
    total=$((total + run))
  done
  printf '%s\n' "$total"
}

# proc_kv_kb FILE FIELD: the number of a "FIELD: value" line of FILE (a /proc file, in kB for sizes).
# The file is read whole in one go: bash's `read` reads ahead and seeks back, and seq_file then
# regenerates the text, which shifts when a value changes length, so lines get lost now and then.
proc_kv_kb() {
  local text line
  text=$(cat "$1" 2>/dev/null) || return 1
  while IFS= read -r line; do
    if [[ "$line" == "$2:"* ]]; then
      line=${line#*:}
      line=${line//[!0-9]/}
      [[ -n "$line" ]] || return 1
      printf '%s\n' "$line"
      return 0
    fi
  done <<<"$text"
  return 1
}

# proc_status_kb PID FIELD: a field of /proc/PID/status (VmRSS, VmHWM, RssAnon, RssFile, in kB;
# also works for counters such as voluntary_ctxt_switches).
proc_status_kb() { proc_kv_kb "/proc/$1/status" "$2"; }

# proc_rollup_kb PID FIELD: a field of /proc/PID/smaps_rollup (Pss, Pss_Anon, Private_Dirty ...) in kB.
proc_rollup_kb() { proc_kv_kb "/proc/$1/smaps_rollup" "$2"; }

# proc_argv PID: fills the global array PROC_ARGV from /proc/PID/cmdline (NUL-separated).
proc_argv() {
  PROC_ARGV=()
  { mapfile -d '' -t PROC_ARGV <"/proc/$1/cmdline"; } 2>/dev/null || return 1
  ((${#PROC_ARGV[@]} > 0))
}

# proc_argv0_base PID: prints the basename of argv[0].
proc_argv0_base() {
  proc_argv "$1" || return 1
  printf '%s\n' "${PROC_ARGV[0]##*/}"
}

# proc_children PID: live children of PID, one per line. Reads the "children" file of every thread
# (a multithreaded reaper may fork from any thread; the main thread's file is
# /proc/PID/task/PID/children); falls back to a ppid scan without CONFIG_PROC_CHILDREN.
proc_children() {
  local pid=$1 f child stat_file
  local -a kids
  local -A seen=()
  if [[ -e "/proc/$pid/task/$pid/children" ]]; then
    for f in /proc/"$pid"/task/*/children; do
      kids=()
      # The file has no trailing newline, so read returns 1 even when it read the PIDs.
      { read -r -a kids <"$f"; } 2>/dev/null || true
      for child in "${kids[@]}"; do
        [[ -n "${seen[$child]:-}" ]] && continue
        seen[$child]=1
        proc_is_live "$child" && printf '%s\n' "$child"
      done
    done
  else
    for stat_file in /proc/[0-9]*/stat; do
      child=${stat_file#/proc/}
      child=${child%%/*}
      proc_is_live "$child" || continue
      [[ "${PROC_STAT[1]}" == "$pid" ]] && printf '%s\n' "$child"
    done
  fi
  return 0
}

# proc_describe PID: one human-readable line (pid, state, pgrp, session, argv).
proc_describe() {
  local pid=$1 argv="?"
  if proc_argv "$pid"; then
    argv="${PROC_ARGV[*]}"
  fi
  if proc_read_stat "$pid"; then
    printf 'pid=%s state=%s ppid=%s pgrp=%s sid=%s cmd=%s\n' "$pid" "${PROC_STAT[0]}" \
      "${PROC_STAT[1]}" "${PROC_STAT[2]}" "${PROC_STAT[3]}" "$argv"
  else
    printf 'pid=%s (gone)\n' "$pid"
  fi
}

# proc_signal_mask PID FIELD: prints the hex mask of FIELD (SigIgn, SigCgt, SigBlk).
proc_signal_mask() {
  local pid=$1 field=$2 key value
  while read -r key value; do
    if [[ "$key" == "$field:" ]]; then
      printf '%s\n' "$value"
      return 0
    fi
  done 2>/dev/null <"/proc/$pid/status" || return 1
  return 1
}

# proc_has_signal PID FIELD SIGNUM: true when SIGNUM is set in FIELD (e.g. SigIgn 15).
proc_has_signal() {
  local mask
  mask=$(proc_signal_mask "$1" "$2") || return 1
  (((0x$mask >> ($3 - 1)) & 1))
}

# find_env_pids ENTRY: prints (one per line) the PIDs of live processes whose environment holds
# exactly the entry ENTRY ("NAME=value"). Skips this shell, the current subshell and processes whose
# environ cannot be read.
find_env_pids() {
  local entry=$1 files file pid
  # One grep over all environ files: -z splits on NUL, -x matches the whole entry.
  files=$(grep -lsxzF -e "$entry" /proc/[0-9]*/environ 2>/dev/null || true)
  [[ -n "$files" ]] || return 0
  while IFS= read -r file; do
    pid=${file#/proc/}
    pid=${pid%%/*}
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
    proc_is_live "$pid" || continue
    printf '%s\n' "$pid"
  done <<<"$files"
  return 0
}

# kill_env_pids ENTRY...: SIGKILLs every process carrying one of the ENTRYs, repeating (at most 20
# rounds, 50 ms apart) until none is left, so processes forked during the sweep are caught too.
# Prints how many were killed.
kill_env_pids() {
  local round pids pid entry killed=0
  for round in {1..20}; do
    pids=$(for entry in "$@"; do find_env_pids "$entry"; done)
    [[ -z "$pids" ]] && break
    while IFS= read -r pid; do
      [[ -n "$pid" ]] || continue
      if kill -KILL "$pid" 2>/dev/null; then
        killed=$((killed + 1))
      fi
    done <<<"$pids"
    ((round == 20)) || sleep 0.05
  done
  printf '%s\n' "$killed"
}

# cgroup_owner_prefix: "flowforge-<pid namespace inode>-", the start of the names of the worker cgroups
# that reapers of this shell's PID namespace create (Cgroup.workerName in FlowForgeSystem/Cgroup.swift).
cgroup_owner_prefix() {
  printf 'flowforge-%s-' "$(stat -L -c %i /proc/self/ns/pid)"
}
