# label: runaway
# duration: 16
# what: 3 forked children each duty-cycled to ~60% of a core (below 85% each, ~180% for the tree), all printing the same retry line
import hashlib
import os
import time

DURATION = 16.0
CHILDREN = 3
DUTY = 0.6          # fraction of each 100 ms slice spent burning CPU
SLICE = 0.1


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"child")
    while time.time() < end:
        for _ in range(100):
            h.update(b"spin")


def child(index, deadline):
    n = 0
    while time.time() < deadline:
        t0 = time.time()
        burn(DUTY * SLICE)
        rest = SLICE - (time.time() - t0)
        if rest > 0:
            time.sleep(rest)
        n += 1
        if n % 2 == 0:  # ~5 lines/s per child, ~15 lines/s for the tree
            print(f"worker-{index}: upstream connection reset, retrying request", flush=True)
    os._exit(0)


def main():
    deadline = time.time() + DURATION
    print(f"pool: starting {CHILDREN} workers", flush=True)
    pids = []
    for i in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            child(i + 1, deadline)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    print("pool: all workers exited", flush=True)


if __name__ == "__main__":
    main()
