# label: runaway
# duration: 40
# buffered: yes
# what: HTTP client retrying the same failing fetch with no backoff, 'ERROR fetch https://api.example.com/v1/items failed: 503 ...; retrying (request_id=<hex>)' ~10/s at a full core; only the request id changes
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)


def main():
    rng = random.SystemRandom()
    start = time.time()
    ffprofile.emit("INFO sync: fetching item catalogue from https://api.example.com/v1/items")
    while time.time() - start < DURATION:
        ffprofile.burn(0.1)
        ffprofile.emit("ERROR fetch https://api.example.com/v1/items failed: 503 Service Unavailable; "
                       f"retrying (request_id={rng.getrandbits(64):016x})")


if __name__ == "__main__":
    main()
