# label: healthy
# duration: 30
# what: mostly idle worker (<5% CPU) printing a varied status line every 2-3 s; idle, so never a runaway
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402
from ffprofile import word  # noqa: E402

DURATION = ffprofile.duration(30)
STATES = ["cache warm", "cache cold, refilling lazily", "waiting for leader election", "queue drained",
          "snapshot scheduled", "replica in sync", "compaction deferred", "backlog empty"]


def main():
    rng = random.Random(31)
    start = time.time()
    n = 0
    while time.time() - start < DURATION:
        n += 1
        ffprofile.burn(0.02)
        ffprofile.emit(f"status: {rng.randint(0, 9)} sessions open, {rng.choice(STATES)}, "
                       f"last sync with {word(n * 7919 + 7)} {rng.randint(1, 59)}s ago")
        time.sleep(min(rng.uniform(2.0, 3.0), max(0.0, start + DURATION - time.time())))


if __name__ == "__main__":
    main()
