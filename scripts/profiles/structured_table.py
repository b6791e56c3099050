# label: healthy
# duration: 35
# what: report dump at full CPU: a numeric table (rows differ only in numbers) and JSON records with varying key sets
import json
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)
SCHEMAS = [
    ("host", "cpu", "mem"),
    ("host", "disk", "iops", "latency"),
    ("host", "rx", "tx"),
]


def main():
    rng = random.Random(9)
    start = time.time()
    row = 0
    while time.time() - start < DURATION:
        ffprofile.emit("| shard | rows | size MB | p50 ms | p99 ms |")
        ffprofile.emit("|-------|------|---------|--------|--------|")
        for _ in range(10):
            ffprofile.burn(0.06)
            row += 1
            ffprofile.emit(f"| {row:5d} | {rng.randint(1000, 99999):4d} | {rng.uniform(1, 900):7.1f} | "
                           f"{rng.uniform(1, 20):6.2f} | {rng.uniform(20, 400):6.1f} |")
        for schema in SCHEMAS:
            ffprofile.burn(0.06)
            record = {key: (f"node{rng.randint(1, 64)}" if key == "host" else rng.randint(0, 10000)) for key in schema}
            ffprofile.emit(json.dumps(record))


if __name__ == "__main__":
    main()
