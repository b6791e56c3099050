# label: runaway
# duration: 15
# what: agent cycling through the same 4 distinct lines (plan, tool call, error, reflect) while burning a full core
import hashlib
import time

DURATION = 15.0
CYCLE = [
    "plan: read the configuration before editing the deployment manifest",
    "tool call: read_file path=deploy/manifest.yaml",
    "tool error: permission denied while opening deploy/manifest.yaml",
    "reflect: the read failed, so I should plan the next step again",
]


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"agent")
    while time.time() < end:
        for _ in range(200):
            h.update(b"step")


def main():
    start = time.time()
    i = 0
    while time.time() - start < DURATION:
        burn(0.08)
        print(CYCLE[i % len(CYCLE)], flush=True)
        i += 1


if __name__ == "__main__":
    main()
