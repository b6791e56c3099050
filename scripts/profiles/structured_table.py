# label: healthy
# duration: 15
# what: report dump at full CPU: a numeric table (rows differ only in numbers) and JSON records with varying key sets
import hashlib
import json
import random
import time

DURATION = 15.0
SCHEMAS = [
    ("host", "cpu", "mem"),
    ("host", "disk", "iops", "latency"),
    ("host", "rx", "tx"),
]


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"report")
    while time.time() < end:
        for _ in range(200):
            h.update(b"row")


def main():
    rng = random.Random(9)
    start = time.time()
    row = 0
    while time.time() - start < DURATION:
        print("| shard | rows | size MB | p50 ms | p99 ms |", flush=True)
        print("|-------|------|---------|--------|--------|", flush=True)
        for _ in range(10):
            burn(0.06)
            row += 1
            print(f"| {row:5d} | {rng.randint(1000, 99999):4d} | {rng.uniform(1, 900):7.1f} | "
                  f"{rng.uniform(1, 20):6.2f} | {rng.uniform(20, 400):6.1f} |", flush=True)
        for schema in SCHEMAS:
            burn(0.06)
            record = {key: (f"node{rng.randint(1, 64)}" if key == "host" else rng.randint(0, 10000)) for key in schema}
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
