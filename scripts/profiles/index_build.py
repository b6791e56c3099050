# label: healthy
# duration: 50
# what: search-index build: one line, then 45 s silent at a full core while appending a results chunk to a file in a temp dir every 0.2 s, one final line, then 5 s of low-CPU wait; silent but doing I/O, so working
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(50)
BUILD_SECONDS = ffprofile.scaled(45, 50)
CHUNK_EVERY = 0.2
CHUNK_BYTES = 16 * 1024


def main():
    rng = random.Random(13)
    with ffprofile.scratch_dir("ffprofile-index-") as work:
        start = time.time()
        path = os.path.join(work, "segments.idx")
        ffprofile.emit(f"index build: reading corpus manifest, writing segments to {path}")
        chunks = 0
        next_chunk = start
        while time.time() - start < BUILD_SECONDS:
            next_chunk += CHUNK_EVERY
            ffprofile.burn_until(min(next_chunk, start + BUILD_SECONDS))
            with open(path, "ab") as f:  # open/append/close each time, like a segment writer
                f.write(rng.randbytes(CHUNK_BYTES))
            chunks += 1
        size = os.path.getsize(path)
        ffprofile.emit(f"index build: done, {chunks} segments, {size // 1024} KiB, waiting for the uploader")
        rest = start + DURATION - time.time()
        if rest > 0:
            time.sleep(rest)


if __name__ == "__main__":
    main()
