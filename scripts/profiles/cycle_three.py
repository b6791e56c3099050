# label: runaway
# duration: 40
# buffered: yes
# what: agent planner cycling through the same 3 lines (plan the same search, 0 results, try it again) ~10 lines/s at a full core
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)
CYCLE = [
    "planner: next action is search(query='retry policy')",
    "tool search: 0 results",
    "planner: no results, trying the same search again",
]


def main():
    start = time.time()
    i = 0
    while time.time() - start < DURATION:
        ffprofile.burn(0.1)
        ffprofile.emit(CYCLE[i % len(CYCLE)])
        i += 1


if __name__ == "__main__":
    main()
