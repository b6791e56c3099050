# label: runaway
# duration: 40
# buffered: yes
# what: like agent_loop_json (same read_file call, same error, forever) but every record also carries a fresh random request_id and call_id, ~10 lines/s at a full core; ids change, the action does not
import json
import os
import random
import string
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(40)
PATH = "src/app/config.yaml"
ALNUM = string.ascii_letters + string.digits


def main():
    rng = random.SystemRandom()

    def rid(prefix, n):
        return prefix + "".join(rng.choice(ALNUM) for _ in range(n))

    start = time.time()
    step = 0
    ffprofile.emit(json.dumps({"ts": round(time.time(), 3), "type": "task", "request_id": rid("req_", 24),
                               "goal": "fix the failing config loader"}))
    while time.time() - start < DURATION:
        step += 1
        call_id = rid("call_", 24)
        ffprofile.burn(0.1)
        ffprofile.emit(json.dumps({"ts": round(time.time(), 3), "step": step, "type": "tool_call",
                                   "request_id": rid("req_", 24), "call_id": call_id, "name": "read_file",
                                   "args": {"path": PATH}}))
        ffprofile.burn(0.1)
        ffprofile.emit(json.dumps({"ts": round(time.time(), 3), "step": step, "type": "observation",
                                   "request_id": rid("req_", 24), "call_id": call_id,
                                   "error": f"FileNotFoundError: {PATH}"}))


if __name__ == "__main__":
    main()
