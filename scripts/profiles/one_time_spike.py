# label: healthy
# duration: 30
# what: idle queue poller (same status line every 0.5 s) with one 3 s full-CPU job printing repetitive progress lines (the spike stays under the 10 s sustain window)
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(30)
SPIKE_AT = ffprofile.scaled(10.0, 30)
SPIKE_SECONDS = min(3.0, ffprofile.scaled(3.0, 30))  # must stay below --sustain (10 s by default): a spike


def main():
    start = time.time()
    spiked = False
    while time.time() - start < DURATION:
        if not spiked and time.time() - start >= SPIKE_AT:
            spiked = True
            ffprofile.emit("poller: job received, rebuilding search index")
            spike_start = time.time()
            step = 0
            while time.time() - spike_start < SPIKE_SECONDS:
                ffprofile.burn(0.1)
                step += 1
                percent = min(100, int((time.time() - spike_start) / SPIKE_SECONDS * 100))
                ffprofile.emit(f"rebuilding search index: {percent}% ({step} segments merged)")
            ffprofile.emit("poller: search index rebuilt")
            continue
        ffprofile.emit("poller: queue empty, sleeping")
        time.sleep(0.5)


if __name__ == "__main__":
    main()
