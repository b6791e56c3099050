# label: healthy
# duration: 30
# what: startup compile: ~8 s of full CPU with varied output (one line per compiled file), then quiet low-CPU serving
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(30)
COMPILE_SECONDS = min(8.0, ffprofile.scaled(8.0, 30))  # under --sustain's 10 s
MODULES = ["parser", "lexer", "planner", "scheduler", "storage", "network", "codec", "metrics",
           "router", "session", "catalog", "journal", "indexer", "gateway", "render", "shader"]
PARTS = ["tokens", "grammar", "buffers", "cache", "graph", "queue", "layout", "bindings",
         "schema", "frames", "pools", "vectors", "rules", "errors", "paths", "fonts"]
PHASES = ["compiling", "optimizing", "linking", "checking types in", "emitting code for"]
ROUTES = ["/health", "/users", "/orders", "/search", "/catalog", "/login"]


def main():
    rng = random.Random(11)
    start = time.time()
    pairs = [(m, p) for m in MODULES for p in PARTS]
    rng.shuffle(pairs)
    i = 0
    ffprofile.emit("build: resolving dependencies for service frontdesk")
    while time.time() - start < COMPILE_SECONDS:
        ffprofile.burn(0.15)
        module, part = pairs[i % len(pairs)]
        phase = PHASES[i % len(PHASES)]
        ffprofile.emit(f"{phase} {module}/{part}.swift ({module} {part} target)")
        i += 1
    ffprofile.emit(f"build: finished {i} files, starting server on port 8080")
    while time.time() - start < DURATION:
        time.sleep(min(rng.uniform(0.5, 1.5), max(0.0, start + DURATION - time.time())))
        route = rng.choice(ROUTES)
        ffprofile.burn(0.005)
        ffprofile.emit(f"served GET {route} status 200 in {rng.randint(2, 40)}ms")


if __name__ == "__main__":
    main()
