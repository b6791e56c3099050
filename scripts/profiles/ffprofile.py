# FlowForge workload profiles: shared helpers (standard library only). Not a profile itself: it has no
# '# label:' header, so the scripts that run every *.py here skip it.
"""Helpers shared by the profiles in scripts/profiles/.

A profile imports this module with

    sys.dont_write_bytecode = True     # profiles write nothing outside a temporary directory
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import ffprofile

Environment:
  FF_PROFILE_DURATION=S   run S seconds instead of the profile's own duration (quick checks; the
                          eval and pilot scripts normally leave it unset); times inside the profile
                          (an onset, a phase) scale with it through scaled()
  FF_PROFILE_BUFFERED=1   emit() does not flush: output reaches a pipe in Python's 8 KiB blocks, as it
                          does for a worker whose author forgot flush=True
  FLOWFORGE_LOGHUB_DIR    folder with the loghub *_2k.log samples (default: ../shared/corpora/loghub
                          next to the repository)
  FF_LOGHUB_START, FF_LOGHUB_SECONDS   first line (1-based) and run time of replay_log()
"""
import contextlib
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time

BUFFERED = os.environ.get("FF_PROFILE_BUFFERED") == "1"
# Like a worker with a graceful shutdown, a profile keeps working (and printing) for this long after SIGTERM,
# then exits. Besides being common, it leaves the events recording a little of what came after FlowForge's
# decision, which the offline replay of that recording needs to reach the same decision from sampled output.
GRACEFUL = 2.0
_MAIN_PID = os.getpid()
_stop_requested = None
SLICE = 0.1  # seconds: duty() burns part of each slice and sleeps the rest

SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "bo", "da", "fi", "gu", "ha",
             "jo", "ke", "lu", "ma", "ni"]

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _positive(name):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"ffprofile: {name} must be a number of seconds, got {raw!r}")
    if value <= 0:
        raise SystemExit(f"ffprofile: {name} must be above 0, got {raw!r}")
    return value


def duration(default):
    """Seconds the profile runs: FF_PROFILE_DURATION when set, else `default` (its '# duration:' header)."""
    override = _positive("FF_PROFILE_DURATION")
    return override if override is not None else float(default)


def scaled(seconds, default_duration):
    """A time inside a profile of `default_duration` seconds, scaled when FF_PROFILE_DURATION shortens it."""
    override = _positive("FF_PROFILE_DURATION")
    if override is None:
        return float(seconds)
    return float(seconds) * override / float(default_duration)


def _graceful(_signum, _frame):
    global _stop_requested
    if _stop_requested is None:
        _stop_requested = time.time()


def check_stop():
    """Exits once GRACEFUL seconds have passed since SIGTERM (burn and emit call it)."""
    if _stop_requested is not None and time.time() >= _stop_requested + GRACEFUL:
        flush_all()
        if os.getpid() != _MAIN_PID:
            os._exit(0)  # a forked child must not unwind into its parent's code
        raise SystemExit(128 + signal.SIGTERM)


signal.signal(signal.SIGTERM, _graceful)


def burn_until(deadline):
    """Busy hashing loop until time.time() passes `deadline`.

    The loop makes no system calls: hashlib runs in C, and time.time() is clock_gettime through the vDSO.
    """
    h = hashlib.sha256(b"flowforge-profile")
    while time.time() < deadline:
        for _ in range(200):
            h.update(b"work")
        check_stop()


def burn(seconds):
    """Busy hashing loop for `seconds` of wall time (one full core)."""
    burn_until(time.time() + seconds)


def duty(fraction, seconds):
    """About `fraction` of one core for `seconds`: burn that share of every 100 ms slice, sleep the rest."""
    end = time.time() + seconds
    while True:
        now = time.time()
        if now >= end:
            return
        slice_end = min(end, now + SLICE)
        burn_until(min(slice_end, now + fraction * SLICE))
        rest = slice_end - time.time()
        if rest > 0:
            time.sleep(rest)


def emit(line, stream=None, end="\n"):
    """Writes `line` (+ `end`) to `stream` (default stdout) and flushes it, unless FF_PROFILE_BUFFERED=1."""
    stream = sys.stdout if stream is None else stream
    check_stop()
    try:
        stream.write(line + end)
        if not BUFFERED:
            stream.flush()
    except BrokenPipeError:
        # The reader went away (`python3 profile.py | head`): stop quietly instead of a traceback.
        os._exit(0)


def flush_all():
    """Flushes stdout and stderr: call it before os.fork() (a child would repeat a pending buffer) and
    before os._exit() (which skips Python's own flush)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def scratch_dir(prefix):
    """A temporary directory, removed on the way out, also when FlowForge stops the profile with SIGTERM
    (check_stop raises SystemExit after the graceful period) or it is interrupted (SIGINT and SIGHUP become
    SystemExit), so `finally` blocks run. (SIGKILL, after
    FlowForge's grace period, cannot be handled; a profile's temporary files are small.)"""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def word(n, length=3):
    """A pronounceable word from the base-20 digits of n: varied output that the detector's normalizer does
    not mask (it masks digits, so `item 17` and `item 18` are the same line to it)."""
    out = []
    for _ in range(length):
        out.append(SYLLABLES[n % 20])
        n //= 20
    return "".join(out)


def loghub_dir():
    """The folder holding the loghub samples: $FLOWFORGE_LOGHUB_DIR, else ../shared/corpora/loghub beside
    the repository root."""
    env = os.environ.get("FLOWFORGE_LOGHUB_DIR", "").strip()
    if env:
        return os.path.abspath(env)
    return os.path.normpath(os.path.join(_REPO, "..", "shared", "corpora", "loghub"))


def loghub_path(name):
    """Path of the loghub sample NAME (e.g. 'Linux_2k.log'); exits with a clear message if it is absent.

    The samples are read in place and never copied into the repository (see their README, LICENSE and
    CITATION files).
    """
    path = os.path.join(loghub_dir(), name)
    if not os.path.isfile(path):
        raise SystemExit(f"ffprofile: loghub sample {name} not found at {path}; set FLOWFORGE_LOGHUB_DIR to "
                         "the folder with the loghub *_2k.log files (public loghub samples, not in this repo)")
    return path


def replay_log(name, rate=15, seconds=45, start_line=1):
    """Prints the lines of loghub sample NAME from `start_line` (1-based) at `rate` lines/s for `seconds`,
    burning one full core in between and flushing each line; wraps to line 1 at the end of the file.

    FF_LOGHUB_START and FF_LOGHUB_SECONDS override start_line and seconds (FF_PROFILE_DURATION also
    shortens the run; FF_LOGHUB_SECONDS wins over it).
    """
    path = loghub_path(name)
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    if not lines:
        raise SystemExit(f"ffprofile: loghub sample {path} is empty")
    start_raw = os.environ.get("FF_LOGHUB_START", "").strip()
    if start_raw:
        if not start_raw.isdigit() or int(start_raw) < 1:
            raise SystemExit(f"ffprofile: FF_LOGHUB_START must be a line number (1 or more), got {start_raw!r}")
        start_line = int(start_raw)
    run_for = _positive("FF_LOGHUB_SECONDS") or duration(seconds)
    index = (start_line - 1) % len(lines)
    start = time.time()
    end = start + run_for
    n = 0
    while True:
        due = start + n / float(rate)
        if due >= end:
            break
        burn_until(due)
        emit(lines[index])
        index = (index + 1) % len(lines)
        n += 1
    burn_until(end)
