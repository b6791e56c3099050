# label: runaway
# duration: 16
# what: silent spin: a full core busy-looping with no output at all
import hashlib
import time

DURATION = 16.0


def main():
    end = time.time() + DURATION
    h = hashlib.sha256(b"spin")
    while time.time() < end:
        for _ in range(200):
            h.update(b"spin")


if __name__ == "__main__":
    main()
