# label: runaway
# duration: 15
# what: agent retry loop, every line differs only in volatile tokens (attempt N request_id=<hex> retrying in Nms), full core
import hashlib
import random
import time

DURATION = 15.0


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"agent")
    while time.time() < end:
        for _ in range(200):
            h.update(b"step")


def main():
    rng = random.Random(7)
    start = time.time()
    attempt = 0
    print("agent: calling upstream model endpoint", flush=True)
    while time.time() - start < DURATION:
        burn(0.08)
        attempt += 1
        request_id = "%08x" % rng.getrandbits(32)
        backoff = rng.choice([50, 100, 250, 500, 1000])
        print(f"attempt {attempt} request_id={request_id} retrying in {backoff}ms", flush=True)


if __name__ == "__main__":
    main()
