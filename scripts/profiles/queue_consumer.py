# label: healthy
# duration: 35
# what: queue consumer at a full core, one line per job (~10/s) with a new random job id, varying item/byte counts and times and an advancing total: same shape every line, but every job is new work
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)


def main():
    rng = random.SystemRandom()
    start = time.time()
    total = 0
    ffprofile.emit("INFO consumer-3 subscribed to queue jobs.ingest (prefetch 16)")
    while time.time() - start < DURATION:
        t0 = time.time()
        ffprofile.burn(rng.uniform(0.06, 0.13))
        total += 1
        items = rng.randint(1, 40)
        size = items * rng.randint(180, 520)
        ms = int((time.time() - t0) * 1000)
        ffprofile.emit(f"INFO consumer-3 processed job {rng.getrandbits(48):012x} ({items} items, {size}B) "
                       f"in {ms}ms; acked, total={total}")


if __name__ == "__main__":
    main()
