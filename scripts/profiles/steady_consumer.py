# label: healthy
# duration: 16
# what: queue consumer at ~55% of a core logging one same-shaped line per message (ids and timings vary)
import hashlib
import random
import time

DURATION = 16.0
DUTY = 0.55


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"consumer")
    while time.time() < end:
        for _ in range(100):
            h.update(b"message")


def main():
    rng = random.Random(2)
    start = time.time()
    while time.time() - start < DURATION:
        t0 = time.time()  # one message per 100 ms slice: burn DUTY of it, sleep the rest
        burn(DUTY * 0.1)
        print(f"consumed message {rng.getrandbits(48):012x} from orders in {rng.randint(3, 60)}ms: ok", flush=True)
        rest = 0.1 - (time.time() - t0)
        if rest > 0:
            time.sleep(rest)


if __name__ == "__main__":
    main()
