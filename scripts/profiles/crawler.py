# label: healthy
# duration: 35
# what: web crawler at a full core, one access-log-like line per fetched page (~10/s), every URL new (random path words and ids), status/bytes/times/depth vary; new pages every line, not a loop
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)
WORDS = ["guide", "reference", "install", "configure", "network", "storage", "security", "release-notes",
         "tutorial", "api", "cli", "plugins", "migration", "faq", "troubleshooting", "metrics", "logging",
         "backup", "scaling", "auth", "tokens", "webhooks", "queues", "caching", "templates", "deploy",
         "kubernetes", "docker", "python", "rust", "swift", "java", "errors", "limits", "pricing", "sdk"]


def main():
    rng = random.SystemRandom()
    start = time.time()
    ffprofile.emit("crawler: seeding frontier with https://docs.example.org/ (max depth 4, 2 fetchers)")
    while time.time() - start < DURATION:
        t0 = time.time()
        ffprofile.burn(rng.uniform(0.05, 0.13))
        path = "/".join(rng.sample(WORDS, rng.randint(1, 3)))
        status = rng.choices([200, 301, 404], weights=[92, 5, 3])[0]
        size = rng.randint(900, 60000) if status == 200 else rng.randint(150, 400)
        ms = int((time.time() - t0) * 1000) + rng.randint(20, 200)
        ffprofile.emit(f"fetched https://docs.example.org/{path}/{rng.randint(1, 99999)} {status} {size}B {ms}ms "
                       f"depth={rng.randint(1, 4)}")


if __name__ == "__main__":
    main()
