# label: runaway
# duration: 40
# buffered: yes
# what: agent cycling through the same 4 distinct lines (plan, tool call, error, reflect) while burning a full core
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)
CYCLE = [
    "plan: read the configuration before editing the deployment manifest",
    "tool call: read_file path=deploy/manifest.yaml",
    "tool error: permission denied while opening deploy/manifest.yaml",
    "reflect: the read failed, so I should plan the next step again",
]


def main():
    start = time.time()
    i = 0
    while time.time() - start < DURATION:
        ffprofile.burn(0.08)
        ffprofile.emit(CYCLE[i % len(CYCLE)])
        i += 1


if __name__ == "__main__":
    main()
