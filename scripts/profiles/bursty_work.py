# label: healthy
# duration: 35
# what: batch processor: 1-2 s full-CPU bursts separated by 0.5-1.5 s idle gaps, a varied line per item
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402
from ffprofile import word  # noqa: E402

DURATION = ffprofile.duration(35)
KINDS = ["invoice", "receipt", "contract", "report", "ledger", "statement", "manifest", "survey"]


def main():
    rng = random.Random(5)
    start = time.time()
    item = 0
    batch = 0
    while time.time() - start < DURATION:
        batch += 1
        burst_end = time.time() + rng.uniform(1.0, 2.0)
        ffprofile.emit(f"batch {word(batch * 37, 2)}: picked up from queue {rng.choice(KINDS)}s")
        while time.time() < burst_end:
            ffprofile.burn(0.2)
            item += 1
            ffprofile.emit(f"  converted {rng.choice(KINDS)} {word(item * 7919)}.pdf to {word(item * 104729 + 3)} archive")
        ffprofile.emit(f"batch {word(batch * 37, 2)}: done, waiting for more work")
        time.sleep(rng.uniform(0.5, 1.5))


if __name__ == "__main__":
    main()
