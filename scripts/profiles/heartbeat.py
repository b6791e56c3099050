# label: healthy
# duration: 30
# what: low-CPU heartbeat: the same line every 0.5 s at ~1% CPU
import hashlib
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(30)


def main():
    start = time.time()
    while time.time() - start < DURATION:
        hashlib.sha256(b"ping").hexdigest()
        ffprofile.emit("heartbeat: worker alive, nothing to do")
        time.sleep(0.5)


if __name__ == "__main__":
    main()
