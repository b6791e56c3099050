# label: healthy
# duration: 35
# what: sustained full CPU with informative output: every line names a different file/word (numbers would be masked)
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402
from ffprofile import word  # noqa: E402

DURATION = ffprofile.duration(35)
VERBS = ["indexed", "parsed", "tokenized", "embedded", "deduplicated", "classified", "summarized", "archived"]
DIRS = ["corpus", "inbox", "tickets", "wiki", "changelog", "reviews", "forum", "manuals"]
TOPICS = ["billing", "shipping", "login", "refunds", "search", "upload", "export", "alerts", "pricing", "privacy"]


def main():
    rng = random.Random(3)
    start = time.time()
    n = 0
    while time.time() - start < DURATION:
        ffprofile.burn(0.08)
        n += 1
        ffprofile.emit(f"{VERBS[n % len(VERBS)]} {DIRS[(n // 8) % len(DIRS)]}/{word(n * 7919)}.md "
                       f"about {rng.choice(TOPICS)} and {word(n * 31 + 11, 2)}")


if __name__ == "__main__":
    main()
