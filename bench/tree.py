#!/usr/bin/env python3
"""Helpers for bench/teardown.sh: build a marked process tree, and time its teardown.

build  BRANCHES LEAVES [--ignore-term]
    The worker: forks BRANCHES branch processes, each of which forks LEAVES children that exec
    `sleep 600`. With --ignore-term, SIGTERM is set to SIG_IGN first, so every process of the tree
    ignores it (the disposition survives fork and exec, like `trap '' TERM` in each). The tree has
    1 + BRANCHES + BRANCHES * LEAVES processes. Everything is bounded: the sleeps end after 600 s.

watch  ENTRY EXPECT SLEEPERS REAPER_PID READY_TIMEOUT_S GONE_TIMEOUT_S
    Waits until exactly EXPECT live processes carry the environment entry ENTRY, SLEEPERS of them
    already exec'd into sleep, opens a pidfd for each, sends SIGTERM to REAPER_PID, and reports (one JSON line)
    how long after the signal the last process of the tree exited (pidfd readable = exited; a
    zombie counts as gone), confirmed by a final /proc/*/environ scan that finds none left.
"""
import json
import os
import resource
import select
import signal
import sys
import time


def build(branches: int, leaves: int, ignore_term: bool) -> None:
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def reap_all() -> None:
        while True:
            try:
                os.wait()
            except ChildProcessError:
                return
            except InterruptedError:
                continue

    for _ in range(branches):
        if os.fork() == 0:
            try:
                for _ in range(leaves):
                    if os.fork() == 0:
                        try:
                            os.execvp("sleep", ["sleep", "600"])
                        finally:
                            os._exit(127)
                reap_all()
            finally:
                os._exit(0)
    reap_all()


def state_of(pid: int):
    """(state, starttime) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    return rest[0].decode(), int(rest[19])


def marked(entry: bytes):
    """{pid: comm} of live processes whose environment holds exactly entry."""
    me = os.getpid()
    found = {}
    needle = b"\0" + entry + b"\0"
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        pid = int(name)
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if needle not in b"\0" + env + b"\0":
            continue
        st = state_of(pid)
        if st is None or st[0] in ("Z", "X", "x"):
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                found[pid] = f.read().strip()
        except OSError:
            continue
    return found


def ignores_term(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def watch(entry: str, expect: int, sleepers: int, reaper: int, ready_timeout: float, gone_timeout: float) -> int:
    entry_b = entry.encode()
    deadline = time.monotonic() + ready_timeout
    while True:
        procs = marked(entry_b)
        sleeping = sum(1 for c in procs.values() if c == "sleep")
        if len(procs) == expect and sleeping == sleepers:
            break
        if len(procs) > expect:
            print(json.dumps({"error": f"found {len(procs)} tree processes, expected {expect}"}))
            return 2
        if time.monotonic() > deadline:
            print(json.dumps({"error": f"only {len(procs)} of {expect} tree processes up "
                                       f"({sleeping} of {sleepers} in sleep) after {ready_timeout} s"}))
            return 2
        time.sleep(0.1)
    ignoring = sum(1 for p in procs if ignores_term(p))

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < expect + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, expect + 256), hard))
    ep = select.epoll()
    fds = {}
    for pid in procs:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            print(json.dumps({"error": f"tree process {pid} vanished before the signal"}))
            return 2
        fds[fd] = pid
        ep.register(fd, select.EPOLLIN)
    reaper_fd = os.pidfd_open(reaper)
    ep.register(reaper_fd, select.EPOLLIN)
    reaper_exit_ms = None

    t0 = time.monotonic_ns()
    os.kill(reaper, signal.SIGTERM)
    last = t0
    first = None
    remaining = len(fds)
    gone_deadline = t0 + int(gone_timeout * 1e9)
    while remaining > 0 or reaper_exit_ms is None:
        now = time.monotonic_ns()
        if now > gone_deadline:
            break
        events = ep.poll(max(0.0, (gone_deadline - now) / 1e9))
        now = time.monotonic_ns()
        for fd, _ in events:
            ep.unregister(fd)
            if fd == reaper_fd:
                reaper_exit_ms = (now - t0) / 1e6
                continue
            os.close(fd)
            del fds[fd]
            remaining -= 1
            last = now
            if first is None:
                first = now
    # Confirm with a full scan (catches anything forked after the snapshot).
    leftovers = marked(entry_b)
    while leftovers and time.monotonic_ns() < gone_deadline:
        time.sleep(0.002)
        leftovers = marked(entry_b)
        last = time.monotonic_ns()
    result = {
        "tree": len(procs),
        "ignoring_term": ignoring,
        "gone_ms": round((last - t0) / 1e6, 1) if remaining == 0 and not leftovers else None,
        "first_exit_ms": round((first - t0) / 1e6, 1) if first else None,
        "reaper_exit_ms": round(reaper_exit_ms, 1) if reaper_exit_ms is not None else None,
        "survivors": remaining + len(leftovers),
    }
    print(json.dumps(result))
    return 0


def main(argv) -> int:
    if len(argv) >= 3 and argv[0] == "build":
        build(int(argv[1]), int(argv[2]), "--ignore-term" in argv[3:])
        return 0
    if len(argv) == 7 and argv[0] == "watch":
        return watch(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), float(argv[5]), float(argv[6]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
