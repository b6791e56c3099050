# label: healthy
# duration: 35
# what: queue consumer at ~55% of a core logging one same-shaped line per message (ids and timings vary)
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)
DUTY = 0.55


def main():
    rng = random.Random(2)
    start = time.time()
    while time.time() - start < DURATION:
        ffprofile.duty(DUTY, 0.1)  # one message per 100 ms slice: burn DUTY of it, sleep the rest
        ffprofile.emit(f"consumed message {rng.getrandbits(48):012x} from orders in {rng.randint(3, 60)}ms: ok")


if __name__ == "__main__":
    main()
