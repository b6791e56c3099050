# label: runaway
# duration: 40
# buffered: yes
# what: agent retrying one tool call with an attempt counter (attempt 1/5 ... 5/5, then 1/5 again) while burning a full core
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)


def main():
    start = time.time()
    ffprofile.emit("Agent: starting task 'open the quarterly report'")
    attempt = 0
    while time.time() - start < DURATION:
        ffprofile.burn(0.1)
        attempt = attempt % 5 + 1
        ffprofile.emit(f"Agent: attempt {attempt}/5: fetch_document(id='q3-report') failed, retrying")
        if attempt == 5:
            ffprofile.emit("Agent: giving up on this plan, starting over")


if __name__ == "__main__":
    main()
