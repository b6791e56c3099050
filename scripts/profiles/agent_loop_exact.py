# label: runaway
# duration: 40
# buffered: yes
# what: agent stuck in a tool-call loop printing the exact same line ~10x/s while burning a full core
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)
LINE = "Agent: the answer is still incomplete, calling tool search_docs(query='retry policy') again"


def main():
    start = time.time()
    ffprofile.emit("Agent: starting task 'summarise the retry policy'")
    while time.time() - start < DURATION:
        ffprofile.burn(0.1)
        ffprofile.emit(LINE)


if __name__ == "__main__":
    main()
