# label: runaway
# duration: 50
# buffered: yes
# onset: 15
# what: 15 s of healthy varied work at a full core (a different file and words per line), then stuck repeating one agent line ~10x/s, still at a full core; latency counts from the onset
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402
from ffprofile import word  # noqa: E402

DURATION = ffprofile.duration(50)
ONSET = ffprofile.scaled(15, 50)
VERBS = ["indexed", "parsed", "tokenized", "embedded", "deduplicated", "classified", "summarized", "archived"]
DIRS = ["corpus", "inbox", "tickets", "wiki", "changelog", "reviews", "forum", "manuals"]
TOPICS = ["billing", "shipping", "login", "refunds", "search", "upload", "export", "alerts", "pricing", "privacy"]
STUCK = "Agent: tool summarize_ticket returned an empty summary, calling summarize_ticket(id='T-4412') again"


def main():
    rng = random.Random(43)
    start = time.time()
    n = 0
    while time.time() - start < ONSET:
        ffprofile.burn(0.08)
        n += 1
        ffprofile.emit(f"{VERBS[n % len(VERBS)]} {DIRS[(n // 8) % len(DIRS)]}/{word(n * 7919)}.md "
                       f"about {rng.choice(TOPICS)} and {word(n * 31 + 11, 2)}")
    while time.time() - start < DURATION:
        ffprofile.burn(0.1)
        ffprofile.emit(STUCK)


if __name__ == "__main__":
    main()
