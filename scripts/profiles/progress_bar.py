# label: healthy
# duration: 35
# what: tqdm-like progress bar at a full core, rewritten in place with carriage returns ~10x/s (no newline until the end); one growing "line" of numbers, a job making progress
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)
TOTAL = 1000
WIDTH = 10


def clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def main():
    start = time.time()
    ffprofile.emit("encoding shards with model mini-embed-v2")
    tick = 0
    done = 0
    while done < TOTAL:
        tick += 1
        ffprofile.burn_until(start + tick * 0.1)
        elapsed = time.time() - start
        done = min(TOTAL, int(TOTAL * elapsed / DURATION))
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (TOTAL - done) / rate if rate > 0 else 0.0
        filled = done * WIDTH // TOTAL
        bar = "#" * filled + " " * (WIDTH - filled)
        ffprofile.emit(f"\r{100 * done // TOTAL:3d}%|{bar}| {done}/{TOTAL} [{clock(elapsed)}<{clock(left)}, {rate:.1f}it/s]",
                       end="")
    ffprofile.emit("")
    ffprofile.emit(f"encoded {TOTAL} shards in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
