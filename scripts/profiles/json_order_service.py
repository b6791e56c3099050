# label: healthy
# duration: 35
# what: order service at a full core logging one JSON object per order (~10/s): same keys every record, but a fresh order id, amount and time each; every order is new work
import json
import os
import random
import string
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)
ALNUM = string.ascii_lowercase + string.digits


def main():
    rng = random.SystemRandom()
    start = time.time()
    while time.time() - start < DURATION:
        t0 = time.time()
        ffprofile.burn(rng.uniform(0.06, 0.13))
        record = {
            "ts": round(time.time(), 3),
            "level": "info",
            "msg": "order processed",
            "order_id": "ord_" + "".join(rng.choice(ALNUM) for _ in range(10)),
            "amount": round(rng.uniform(3, 900), 2),
            "ms": int((time.time() - t0) * 1000),
        }
        ffprofile.emit(json.dumps(record))


if __name__ == "__main__":
    main()
