# label: healthy
# duration: 35
# what: API server at a full core writing a JSON access log (~12 lines/s): random request ids, paths with varying resource ids, status mostly 200 (some 201/304), varying bytes and times; serving traffic, not looping
import json
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)
ROUTES = [
    ("GET", "/api/v1/users/{id}", 200),
    ("GET", "/api/v1/users/{id}/orders", 200),
    ("GET", "/api/v1/products/{id}", 200),
    ("GET", "/api/v1/products/{id}/reviews", 200),
    ("POST", "/api/v1/orders", 201),
    ("GET", "/api/v1/orders/{id}", 200),
    ("PUT", "/api/v1/carts/{id}/items", 200),
    ("GET", "/static/app.{id}.js", 304),
]


def main():
    rng = random.SystemRandom()
    start = time.time()
    while time.time() - start < DURATION:
        t0 = time.time()
        ffprofile.burn(rng.uniform(0.05, 0.11))
        method, template, status = rng.choice(ROUTES)
        if status == 200 and rng.random() < 0.05:
            status = 304
        record = {
            "ts": round(time.time(), 3),
            "request_id": "%032x" % rng.getrandbits(128),
            "method": method,
            "path": template.replace("{id}", str(rng.randint(1, 99999))),
            "status": status,
            "bytes": 0 if status == 304 else rng.randint(120, 48000),
            "ms": int((time.time() - t0) * 1000),
            "client": f"10.1.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        }
        ffprofile.emit(json.dumps(record))


if __name__ == "__main__":
    main()
