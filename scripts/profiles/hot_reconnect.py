# label: runaway
# duration: 40
# buffered: yes
# what: database client reconnecting with no backoff, 'WARN db: connection to 10.0.0.5:5432 refused, reconnecting' ~15/s at a full core (simulated: no network); a hot retry loop
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)


def main():
    start = time.time()
    ffprofile.emit("INFO db: pool starting, target 10.0.0.5:5432 (database orders)")
    n = 0
    while time.time() - start < DURATION:
        n += 1
        ffprofile.burn_until(start + n / 15.0)  # the "connect attempt": no sleep between attempts
        ffprofile.emit("WARN db: connection to 10.0.0.5:5432 refused, reconnecting")


if __name__ == "__main__":
    main()
