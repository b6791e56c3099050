# label: healthy
# duration: 35
# what: model training at a full core, one line per step (~8/s): epoch/step advance, loss slowly decreases with noise, no known total; numbers-only changes, but every step is new work
import math
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(35)
STEPS_PER_EPOCH = 500


def main():
    rng = random.Random(41)
    start = time.time()
    step = 1200
    ffprofile.emit("trainer: resuming from checkpoint step 1200 (epoch 2), batch size 32, seq len 1024")
    while time.time() - start < DURATION:
        ffprofile.burn(0.125)
        step += 1
        epoch = step // STEPS_PER_EPOCH
        loss = 0.25 + 1.8 * math.exp(-step / 900.0) + rng.gauss(0, 0.02)
        grad = abs(rng.gauss(1.9, 0.35))
        lr = 3e-4 * (0.5 * (1 + math.cos(math.pi * min(1.0, step / 20000.0))))
        tok = int(rng.gauss(5100, 120))
        ffprofile.emit(f"epoch {epoch} step {step} loss={loss:.4f} grad_norm={grad:.2f} lr={lr:.1e} tok/s={tok}")


if __name__ == "__main__":
    main()
