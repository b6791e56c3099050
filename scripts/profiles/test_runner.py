# label: healthy
# duration: 35
# what: pytest-style test run at a full core, one 'tests/test_<module>.py::test_<name> PASSED [ 37%]' line per test (~10/s), names built from syllables, percentage advancing, an occasional SKIPPED; a suite making progress
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402
from ffprofile import word  # noqa: E402

DURATION = ffprofile.duration(35)
MODULES = ["billing", "auth", "search", "export", "scheduler", "storage", "parser", "webhooks", "invoices",
           "sessions", "quota", "catalog", "render", "sync"]
VERBS = ["creates", "rejects", "parses", "retries", "rounds", "expires", "merges", "renders", "escapes",
         "validates", "paginates", "caches", "migrates", "sorts"]


def main():
    rng = random.Random(23)
    total = max(10, int(DURATION * 10))
    per_test = DURATION / total
    ffprofile.emit("============================= test session starts ==============================")
    ffprofile.emit(f"platform linux -- Python 3.11.7, pytest-8.2.0, pluggy-1.5.0\ncollected {total} items\n")
    start = time.time()
    passed = skipped = 0
    module = MODULES[0]
    for i in range(1, total + 1):
        if i % 17 == 1:
            module = f"{rng.choice(MODULES)}_{word(i * 13 + 5, 2)}"
        ffprofile.burn_until(start + i * per_test * rng.uniform(0.9, 1.0))
        name = f"{rng.choice(VERBS)}_{word(i * 7919 + 3)}_{word(i * 31, 2)}"
        outcome = "SKIPPED" if rng.random() < 0.04 else "PASSED"
        if outcome == "PASSED":
            passed += 1
        else:
            skipped += 1
        head = f"tests/test_{module}.py::test_{name} {outcome}"
        ffprofile.emit(f"{head:<72} [{int(100 * i / total):3d}%]")
    ffprofile.emit(f"================ {passed} passed, {skipped} skipped in {time.time() - start:.2f}s ================")


if __name__ == "__main__":
    main()
