# label: healthy
# duration: 16
# what: full-CPU ETL batch job printing one progress line per chunk (~10/s); lines differ only in numbers, and the advancing N/M counter marks them as progress
import hashlib
import time

DURATION = 16.0


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"etl")
    while time.time() < end:
        for _ in range(200):
            h.update(b"chunk")


def main():
    start = time.time()
    chunk = 0
    total = 160
    while time.time() - start < DURATION:
        t0 = time.time()
        burn(0.1)
        chunk += 1
        print(f"loaded chunk {chunk}/{total} ({chunk * 4.2:.1f} MB) in {int((time.time() - t0) * 1000)}ms", flush=True)


if __name__ == "__main__":
    main()
