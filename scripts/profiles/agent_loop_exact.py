# label: runaway
# duration: 15
# what: agent stuck in a tool-call loop printing the exact same line ~10x/s while burning a full core
import hashlib
import time

DURATION = 15.0
LINE = "Agent: the answer is still incomplete, calling tool search_docs(query='retry policy') again"


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"agent")
    while time.time() < end:
        for _ in range(200):
            h.update(b"step")


def main():
    start = time.time()
    print("Agent: starting task 'summarise the retry policy'", flush=True)
    while time.time() - start < DURATION:
        burn(0.1)
        print(LINE, flush=True)


if __name__ == "__main__":
    main()
