# label: healthy
# duration: 35
# what: full-CPU ETL batch job printing one progress line per chunk (~10/s); lines differ only in numbers, and the advancing N/M counter (restarting at 1 only after a table reached its total) marks them as progress
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)
TOTALS = [160, 95, 120, 140]  # chunks per table; ~10 chunks/s, so a 35 s run loads three and a half tables


def main():
    start = time.time()
    table = 0
    chunk = 0
    while time.time() - start < DURATION:
        total = TOTALS[table % len(TOTALS)]
        t0 = time.time()
        ffprofile.burn(0.1)
        chunk += 1
        ffprofile.emit(f"loaded chunk {chunk}/{total} ({chunk * 4.2:.1f} MB) in {int((time.time() - t0) * 1000)}ms")
        if chunk == total:  # the counter starts over only after it reached its total: the next table
            table += 1
            chunk = 0


if __name__ == "__main__":
    main()
