# label: runaway
# duration: 40
# buffered: no
# what: worker loop that catches the same exception and prints its full traceback to stderr each time, ~3 tracebacks/s at a full core (stderr is line-buffered by Python anyway, so no buffered variant)
import os
import sys
import time
import traceback

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)


def parse_settings(text):
    return dict(line.split("=", 1) for line in text.splitlines())


def load_settings(name):
    return parse_settings({"worker.conf": "retries=3\ntimeout 30"}[name])


def handle(job):
    settings = load_settings("worker.conf")
    return settings[job]


def main():
    start = time.time()
    ffprofile.emit("worker: starting job loop", stream=sys.stderr)
    while time.time() - start < DURATION:
        ffprofile.burn(0.33)
        try:
            handle("retries")
        except Exception:
            traceback.print_exc()
            ffprofile.emit("worker: job failed, picking it up again", stream=sys.stderr)


if __name__ == "__main__":
    main()
