# label: healthy
# duration: 16
# what: sustained full CPU with informative output: every line names a different file/word (numbers would be masked)
import hashlib
import random
import time

DURATION = 16.0
SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "bo", "da", "fi", "gu", "ha",
             "jo", "ke", "lu", "ma", "ni"]
VERBS = ["indexed", "parsed", "tokenized", "embedded", "deduplicated", "classified", "summarized", "archived"]
DIRS = ["corpus", "inbox", "tickets", "wiki", "changelog", "reviews", "forum", "manuals"]
TOPICS = ["billing", "shipping", "login", "refunds", "search", "upload", "export", "alerts", "pricing", "privacy"]


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
    h = hashlib.sha256(b"index")
    while time.time() < end:
        for _ in range(200):
            h.update(b"document")


def main():
    rng = random.Random(3)
    start = time.time()
    n = 0
    while time.time() - start < DURATION:
        burn(0.08)
        n += 1
        print(f"{VERBS[n % len(VERBS)]} {DIRS[(n // 8) % len(DIRS)]}/{word(n * 7919)}.md "
              f"about {rng.choice(TOPICS)} and {word(n * 31 + 11, 2)}", flush=True)


if __name__ == "__main__":
    main()
