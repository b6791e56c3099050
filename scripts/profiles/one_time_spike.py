# label: healthy
# duration: 16
# what: idle queue poller (same status line every 0.5 s) with one 3 s full-CPU job printing repetitive progress lines
import hashlib
import time

DURATION = 16.0
SPIKE_AT = 6.0
SPIKE_SECONDS = 3.0


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"index")
    while time.time() < end:
        for _ in range(200):
            h.update(b"segment")


def main():
    start = time.time()
    spiked = False
    while time.time() - start < DURATION:
        if not spiked and time.time() - start >= SPIKE_AT:
            spiked = True
            print("poller: job received, rebuilding search index", flush=True)
            spike_start = time.time()
            step = 0
            while time.time() - spike_start < SPIKE_SECONDS:
                burn(0.1)
                step += 1
                percent = min(100, int((time.time() - spike_start) / SPIKE_SECONDS * 100))
                print(f"rebuilding search index: {percent}% ({step} segments merged)", flush=True)
            print("poller: search index rebuilt", flush=True)
            continue
        print("poller: queue empty, sleeping", flush=True)
        time.sleep(0.5)


if __name__ == "__main__":
    main()
