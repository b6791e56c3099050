# label: runaway
# duration: 40
# buffered: yes
# what: text agent loop with a log timestamp prefix and a step counter ('... INFO agent step 315: calling read_file(...) -> error: file not found') ~10 lines/s at a full core; only the clock and counter change
import datetime
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)


def stamp():
    now = datetime.datetime.now()
    return now.strftime("%Y-%m-%d %H:%M:%S") + f",{now.microsecond // 1000:03d}"


def main():
    start = time.time()
    step = 300
    ffprofile.emit(f"{stamp()} INFO agent starting task 'fix the failing config loader'")
    while time.time() - start < DURATION:
        ffprofile.burn(0.1)
        step += 1
        ffprofile.emit(f"{stamp()} INFO agent step {step}: calling read_file(path='src/app/config.yaml') "
                       "-> error: file not found")


if __name__ == "__main__":
    main()
