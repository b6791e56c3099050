# label: runaway
# duration: 50
# buffered: no
# what: the worker prints one line, double-forks a grandchild that calls setsid(), detaches from the output pipes and spins silently at a full core, then blocks silently itself; a runaway that escaped its session
import os
import sys
import time

sys.dont_write_bytecode = True  # profiles write nothing outside a temporary directory
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffprofile  # noqa: E402

DURATION = ffprofile.duration(50)


def spin(deadline):
    """The grandchild: new session, stdio on /dev/null (as a daemon does), a full core until the deadline."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    ffprofile.burn_until(deadline)  # it exits by itself after the profile's duration
    os._exit(0)


def main():
    deadline = time.time() + DURATION
    ffprofile.emit("scheduler: handing the reindex job to a background helper")
    ffprofile.flush_all()  # nothing pending may be copied into the children
    child = os.fork()
    if child == 0:
        if os.fork() == 0:
            spin(deadline)
        os._exit(0)  # the intermediate child exits at once: the grandchild is orphaned
    os.waitpid(child, 0)
    rest = deadline - time.time()
    if rest > 0:
        time.sleep(rest)  # the worker itself stays, silent and idle


if __name__ == "__main__":
    main()
