# label: runaway
# duration: 40
# buffered: yes
# what: worker loop that catches the same exception and prints its full traceback to stderr each time, ~3 tracebacks/s at a full core (the buffered variant gives stderr an 8 KiB block buffer, as a C program or a logging handler on a file object has: Python's own stderr is line-buffered)
import io
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
    if ffprofile.BUFFERED:
        sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False), buffer_size=8192),
                                      line_buffering=False, write_through=False)
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
