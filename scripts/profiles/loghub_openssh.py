# label: healthy
# duration: 45
# what: replays the real OpenSSH server log (loghub OpenSSH_2k.log, read in place) at ~15 lines/s from the first line at a full core; logs of working software, so healthy
import os
import sys

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

if __name__ == "__main__":
    ffprofile.replay_log("OpenSSH_2k.log", rate=15, seconds=45, start_line=1)
