# label: runaway
# duration: 40
# buffered: yes
# what: 3 forked children each duty-cycled to ~60% of a core (below 85% each, ~180% for the tree), all printing the same retry line
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)
CHILDREN = 3
DUTY = 0.6          # fraction of each 100 ms slice spent burning CPU


def child(index, deadline):
    n = 0
    while time.time() < deadline:
        ffprofile.duty(DUTY, min(0.1, max(0.0, deadline - time.time())))
        n += 1
        if n % 2 == 0:  # ~5 lines/s per child, ~15 lines/s for the tree
            ffprofile.emit(f"worker-{index}: upstream connection reset, retrying request")
    ffprofile.flush_all()  # os._exit skips Python's flush (matters with FF_PROFILE_BUFFERED=1)
    os._exit(0)


def main():
    deadline = time.time() + DURATION
    ffprofile.emit(f"pool: starting {CHILDREN} workers")
    ffprofile.flush_all()  # a pending buffer would be copied into every child
    pids = []
    for i in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            child(i + 1, deadline)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    ffprofile.emit("pool: all workers exited")


if __name__ == "__main__":
    main()
