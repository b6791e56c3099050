# label: runaway
# duration: 40
# buffered: yes
# what: agent retry loop, every line differs only in volatile tokens (attempt N request_id=<hex> retrying in Nms), full core
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)


def main():
    rng = random.Random(7)
    start = time.time()
    attempt = 0
    ffprofile.emit("agent: calling upstream model endpoint")
    while time.time() - start < DURATION:
        ffprofile.burn(0.08)
        attempt += 1
        request_id = "%08x" % rng.getrandbits(32)
        backoff = rng.choice([50, 100, 250, 500, 1000])
        ffprofile.emit(f"attempt {attempt} request_id={request_id} retrying in {backoff}ms")


if __name__ == "__main__":
    main()
