# label: healthy
# duration: 35
# what: silent simulation at a full core that prints nothing but reads and rewrites a scratch file in a temp dir every 0.1 s: a silent process that does I/O is working
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)
STEP = 0.1
STATE_BYTES = 64 * 1024


def main():
    rng = random.Random(17)
    with ffprofile.scratch_dir("ffprofile-scratch-") as work:
        path = os.path.join(work, "state.bin")
        with open(path, "wb") as f:
            f.write(rng.randbytes(STATE_BYTES))
        start = time.time()
        next_step = start
        while time.time() - start < DURATION:
            next_step += STEP
            ffprofile.burn_until(min(next_step, start + DURATION))
            with open(path, "rb") as f:
                state = bytearray(f.read())
            for i in range(0, len(state), 4096):  # advance the "simulation" a little
                state[i] = (state[i] + 1) % 256
            with open(path, "wb") as f:
                f.write(state)


if __name__ == "__main__":
    main()
