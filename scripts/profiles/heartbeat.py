# label: healthy
# duration: 15
# what: low-CPU heartbeat: the same line every 0.5 s at ~1% CPU
import hashlib
import time

DURATION = 15.0


def main():
    start = time.time()
    while time.time() - start < DURATION:
        hashlib.sha256(b"ping").hexdigest()
        print("heartbeat: worker alive, nothing to do", flush=True)
        time.sleep(0.5)


if __name__ == "__main__":
    main()
