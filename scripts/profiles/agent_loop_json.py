# label: runaway
# duration: 40
# buffered: yes
# what: LLM agent stuck calling read_file on the same missing path, logged as JSON lines (tool_call, then observation with the same error), step advancing, ~10 lines/s at a full core; the same action and result forever
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)
PATH = "src/app/config.yaml"


def main():
    start = time.time()
    step = 0
    ffprofile.emit(json.dumps({"ts": round(time.time(), 3), "type": "task", "goal": "fix the failing config loader"}))
    while time.time() - start < DURATION:
        step += 1
        ffprofile.burn(0.1)
        ffprofile.emit(json.dumps({"ts": round(time.time(), 3), "step": step, "type": "tool_call", "name": "read_file",
                                   "args": {"path": PATH}}))
        ffprofile.burn(0.1)
        ffprofile.emit(json.dumps({"ts": round(time.time(), 3), "step": step, "type": "observation",
                                   "error": f"FileNotFoundError: {PATH}"}))


if __name__ == "__main__":
    main()
