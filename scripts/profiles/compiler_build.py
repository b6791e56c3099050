# label: healthy
# duration: 35
# what: ninja-style C build at a full core, '[ 12/340] Compiling src/<dir>/<file>.c' (~10/s) with N/M advancing and varying file names, plus occasional compiler warnings; a build making progress
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402
from ffprofile import word  # noqa: E402

DURATION = ffprofile.duration(35)
DIRS = ["net", "core", "storage", "crypto", "http", "json", "util", "sched", "fs", "codec", "cli", "tls"]
WARNINGS = [
    ("unused variable '{v}'", "-Wunused-variable"),
    ("comparison of integers of different signs: 'int' and 'size_t'", "-Wsign-compare"),
    ("implicit conversion loses integer precision: 'long' to 'int'", "-Wshorten-64-to-32"),
    ("'{v}' may be used uninitialized in this function", "-Wmaybe-uninitialized"),
    ("unused parameter '{v}'", "-Wunused-parameter"),
]


def main():
    rng = random.Random(29)
    total = max(10, int(DURATION * 9.7))
    per_file = (DURATION - 0.5) / total
    start = time.time()
    ffprofile.emit("ninja: Entering directory `build/release'")
    for i in range(1, total):
        ffprofile.burn_until(start + i * per_file)
        d = rng.choice(DIRS)
        f = f"{word(i * 7919 + 17)}_{word(i * 31, 2)}"
        ffprofile.emit(f"[{i:3d}/{total}] Compiling src/{d}/{f}.c")
        if rng.random() < 0.06:
            text, flag = rng.choice(WARNINGS)
            ffprofile.emit(f"src/{d}/{f}.c:{rng.randint(20, 900)}:{rng.randint(3, 40)}: warning: "
                           f"{text.format(v=word(i * 3 + 1, 2))} [{flag}]")
    ffprofile.burn_until(start + DURATION - 0.2)
    ffprofile.emit(f"[{total}/{total}] Linking bin/flowserver")


if __name__ == "__main__":
    main()
