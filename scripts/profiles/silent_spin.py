# label: runaway
# duration: 50
# buffered: no
# what: silent spin: a full core busy-looping with no output at all (caught by the silence rule, 30 s by default)
import os
import sys

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(50)


def main():
    ffprofile.burn(DURATION)


if __name__ == "__main__":
    main()
