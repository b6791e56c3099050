# label: healthy
# duration: 16
# what: batch processor: 1-2 s full-CPU bursts separated by 0.5-1.5 s idle gaps, a varied line per item
import hashlib
import random
import time

DURATION = 16.0
SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "bo", "da", "fi", "gu", "ha",
             "jo", "ke", "lu", "ma", "ni"]
KINDS = ["invoice", "receipt", "contract", "report", "ledger", "statement", "manifest", "survey"]


def word(n, length=3):
    """A pronounceable word made from the base-20 digits of n (digits would be masked by the detector)."""
    out = []
    for _ in range(length):
        out.append(SYLLABLES[n % 20])
        n //= 20
    return "".join(out)


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"batch")
    while time.time() < end:
        for _ in range(200):
            h.update(b"item")


def main():
    rng = random.Random(5)
    start = time.time()
    item = 0
    batch = 0
    while time.time() - start < DURATION:
        batch += 1
        burst_end = time.time() + rng.uniform(1.0, 2.0)
        print(f"batch {word(batch * 37, 2)}: picked up from queue {rng.choice(KINDS)}s", flush=True)
        while time.time() < burst_end:
            burn(0.2)
            item += 1
            print(f"  converted {rng.choice(KINDS)} {word(item * 7919)}.pdf to {word(item * 104729 + 3)} archive",
                  flush=True)
        print(f"batch {word(batch * 37, 2)}: done, waiting for more work", flush=True)
        time.sleep(rng.uniform(0.5, 1.5))


if __name__ == "__main__":
    main()
