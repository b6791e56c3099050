# label: healthy
# duration: 16
# what: startup compile: ~8 s of full CPU with varied output (one line per compiled file), then quiet low-CPU serving
import hashlib
import random
import time

DURATION = 16.0
COMPILE_SECONDS = 8.0
MODULES = ["parser", "lexer", "planner", "scheduler", "storage", "network", "codec", "metrics",
           "router", "session", "catalog", "journal", "indexer", "gateway", "render", "shader"]
PARTS = ["tokens", "grammar", "buffers", "cache", "graph", "queue", "layout", "bindings",
         "schema", "frames", "pools", "vectors", "rules", "errors", "paths", "fonts"]
PHASES = ["compiling", "optimizing", "linking", "checking types in", "emitting code for"]
ROUTES = ["/health", "/users", "/orders", "/search", "/catalog", "/login"]


def burn(seconds):
    """Busy-loop (hashing) for `seconds` of wall time."""
    end = time.time() + seconds
    h = hashlib.sha256(b"build")
    while time.time() < end:
        for _ in range(200):
            h.update(b"object")


def main():
    rng = random.Random(11)
    start = time.time()
    pairs = [(m, p) for m in MODULES for p in PARTS]
    rng.shuffle(pairs)
    i = 0
    print("build: resolving dependencies for service frontdesk", flush=True)
    while time.time() - start < COMPILE_SECONDS:
        burn(0.15)
        module, part = pairs[i % len(pairs)]
        phase = PHASES[i % len(PHASES)]
        print(f"{phase} {module}/{part}.swift ({module} {part} target)", flush=True)
        i += 1
    print(f"build: finished {i} files, starting server on port 8080", flush=True)
    while time.time() - start < DURATION:
        time.sleep(rng.uniform(0.5, 1.5))
        route = rng.choice(ROUTES)
        burn(0.005)
        print(f"served GET {route} status 200 in {rng.randint(2, 40)}ms", flush=True)


if __name__ == "__main__":
    main()
