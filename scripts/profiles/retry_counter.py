# label: runaway
# duration: 15
# what: agent retrying one tool call with an attempt counter (attempt 1/5 ... 5/5, then 1/5 again) while burning a full core
import hashlib
import time

DURATION = 15.0


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"agent")
    while time.time() < end:
        for _ in range(200):
            h.update(b"retry")


def main():
    start = time.time()
    print("Agent: starting task 'open the quarterly report'", flush=True)
    attempt = 0
    while time.time() - start < DURATION:
        burn(0.1)
        attempt = attempt % 5 + 1
        print(f"Agent: attempt {attempt}/5: fetch_document(id='q3-report') failed, retrying", flush=True)
        if attempt == 5:
            print("Agent: giving up on this plan, starting over", flush=True)


if __name__ == "__main__":
    main()
