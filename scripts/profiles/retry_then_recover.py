# label: healthy
# duration: 35
# what: consumer at a full core that hits 3-4 failing retries of one request (~1 s) every ~10 s, then recovers and processes varied jobs (~10 lines/s); brief retry bursts inside real work are not a runaway
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402
from ffprofile import word  # noqa: E402

DURATION = ffprofile.duration(35)
BURST_EVERY = 10.0
KINDS = ["thumbnail", "invoice", "transcript", "report", "backup", "digest", "export", "preview"]
CUSTOMERS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "soylent"]


def main():
    rng = random.Random(37)
    start = time.time()
    next_burst = start + 1.0
    job = 0
    ffprofile.emit("INFO consumer: connected to upstream renderer, 4 jobs queued")
    while time.time() - start < DURATION:
        if time.time() >= next_burst:
            next_burst += BURST_EVERY
            request = f"{word(job * 131 + 9)}-{rng.getrandbits(32):08x}"
            attempts = rng.randint(3, 4)
            ffprofile.emit(f"WARN request {request}: upstream timeout")
            for attempt in range(2, attempts + 2):
                ffprofile.burn(0.25)
                ffprofile.emit(f"WARN upstream timeout, retrying (attempt {attempt}/5)")
            ffprofile.emit(f"INFO request {request}: upstream recovered, succeeded on attempt {attempts + 1}")
            continue
        ffprofile.burn(0.1)
        job += 1
        ffprofile.emit(f"INFO rendered {rng.choice(KINDS)} {word(job * 7919 + 1)}.pdf for {rng.choice(CUSTOMERS)} "
                       f"({word(job * 37 + 3, 2)} template)")


if __name__ == "__main__":
    main()
