#!/usr/bin/env python3
"""Writes synthetic run spools (runs/<run_id>.jsonl) for the API benchmark (bench/api.sh).

The lines follow what `flowforge run` writes to its spool (see a real runs/*.jsonl and
Sources/FlowForgeStore/Store.swift): one JSON object per line, keys ts, run_id, generation, kind, seq,
[incident_id], fields; `seq` is unique per run and repeated inside fields; `ts` is RFC 3339 UTC with
microseconds; numeric fields are JSON numbers with the detector's fixed decimals.

Each run starts (run.policy, worker.started, teardown.mechanism), samples its worker once a second
(like the detector's default --sample-interval 1), and ends with worker.exited + teardown.finished.
Incidents are spread through each run. Before each one the worker "runs away" for 20 - 40 samples
(high CPU, repetitive output, 64 lines / 3,000 bytes of output per sample, as the detector bounds
it). Three in four incidents are restarts (incident.opened, action.requested, policy.decision,
teardown.started, teardown.signal, worker.exited, teardown.finished, worker.started in the next
generation, teardown.mechanism, incident.recovered); the rest are log-only (incident.opened,
policy.decision, more runaway samples, incident.closed). Healthy samples carry a few lines of
varied log output, or none.

The total number of events is exact. The ids file lists every incident id with the length of its
drilldown chain, computed with the rule of Timeline.chain / Store.chain (the incident's own events
plus the samples of its run and generation from 30 s before it opened to its last event).

Usage: make_events.py --out DIR --ids FILE [--events N] [--runs R] [--incidents K] [--seed S]
       [--end-epoch SECONDS]
Prints one summary line: events=N runs=R incidents=K bytes=B restart=X log=Y
"""

import argparse
import datetime
import json
import os
import random
import re
import sys

WORKERS = [
    "python3 agent.py",
    "node tools/crawler.js",
    "sh -c",
    "./agent.sh --queue default",
    "python3 -m worker.main",
    "flowforge demo-worker",
]

HEALTHY_LINES = [
    "{ts} INFO worker: request id={n} path=/api/v1/items status=200 took={ms}ms",
    "{ts} INFO worker: request id={n} path=/api/v1/orders/{m} status=200 took={ms}ms",
    "{ts} DEBUG cache: hit ratio 0.{m} over {n} lookups",
    "agent step {m}: calling tool read_file(path=\"src/module_{n}.py\") -> {ms} lines",
    "agent step {m}: calling tool run_tests(filter=\"test_{n}\") -> passed in {ms} ms",
    "agent step {m}: thinking about the next edit ({n} tokens)",
    "{ts} WARN http: slow upstream /search took {ms}ms (request {n})",
    "{ts} INFO scheduler: job {n} finished in {ms} ms, {m} items",
]

RUNAWAY_LINES = [
    "agent step {m}: calling tool search_code(query=\"TODO\") -> no results, retrying (attempt {n})",
    "{ts} ERROR worker: upstream refused connection, retrying request id={m} (attempt {n})",
    "agent step {m}: calling tool read_file(path=\"missing.txt\") -> not found, retrying (attempt {n})",
]

NUMERIC = {
    "pid", "exit_code", "signal", "cpu_percent", "peak_cpu_percent", "entropy", "repetition", "confidence",
    "lines", "rss_bytes", "processes", "sustained_seconds", "cgroup_members", "action_id",
    "recovery_window_seconds", "canary_percent", "ticks", "ticks_per_second", "seq",
}


# Like Event.isJSONNumber: numeric keys are written bare only when the value is a JSON number.
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def rfc3339(t):
    """t: float seconds since the epoch -> 2026-11-29T23:04:05.123456Z."""
    us = int(round(t * 1_000_000))
    dt = datetime.datetime.fromtimestamp(us // 1_000_000, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1_000_000)


def bounded(text, limit):
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit].decode(errors="ignore")


class Run:
    def __init__(self, rng, run_id, start, worker):
        self.rng = rng
        self.run_id = run_id
        self.t = start
        self.worker = worker
        self.seq = 0
        self.generation = 0
        self.pid = rng.randint(2000, 60000)
        self.ticks = 0
        self.lines = []
        # Per event: (seq, wall time, generation, kind, incident id or None) for the chain check.
        self.index = []
        self.attempt = 0

    def emit(self, kind, fields, incident=None, dt=0.0002):
        self.t += dt * (0.5 + self.rng.random())
        self.seq += 1
        parts = []
        for key in sorted(fields):
            value = fields[key]
            if key in NUMERIC and NUMBER.fullmatch(str(value)):
                parts.append('"%s":%s' % (key, value))
            else:
                parts.append('"%s":%s' % (key, json.dumps(str(value))))
        parts.append('"seq":%d' % self.seq)
        head = '{"ts":"%s","run_id":"%s","generation":%d,"kind":"%s","seq":%d' % (
            rfc3339(self.t), self.run_id, self.generation, kind, self.seq)
        if incident is not None:
            head += ',"incident_id":"%s"' % incident
        self.lines.append(head + ',"fields":{' + ",".join(parts) + "}}\n")
        self.index.append((self.seq, int(round(self.t * 1_000_000)), self.generation, kind, incident))

    def output_lines(self, templates, count):
        out = []
        for _ in range(count):
            self.attempt += 1
            out.append(self.rng.choice(templates).format(
                ts=rfc3339(self.t)[:19] + "Z", n=self.attempt, m=self.rng.randint(1, 99),
                ms=self.rng.randint(1, 900)))
        return "\n".join(out)

    def sample(self, runaway=False, verdict="healthy", confidence=0.0):
        self.t += 1.0 + self.rng.uniform(-0.004, 0.004) - 0.0002 * 3  # ~1 s apart, other events in between
        if runaway:
            cpu = self.rng.uniform(88, 104)
            entropy = self.rng.uniform(4.1, 4.6)
            repetition = self.rng.uniform(0.95, 0.995)
            text = bounded(self.output_lines([self.rng.choice(RUNAWAY_LINES)], 64), 3000)
            lines = 200
        else:
            cpu = max(0.0, self.rng.gauss(18, 12))
            entropy = self.rng.uniform(4.8, 5.4)
            repetition = self.rng.uniform(0.02, 0.4)
            n = self.rng.choice([0, 0, 1, 1, 2, 3, 4, 6, 10])
            text = self.output_lines(HEALTHY_LINES, n) if n else None
            lines = self.rng.randint(20, 200)
        self.ticks += int(cpu)
        fields = {
            "confidence": "%.3f" % confidence, "cpu_percent": "%.1f" % cpu, "entropy": "%.2f" % entropy,
            "lines": lines, "processes": self.rng.choice([1, 1, 2, 3]),
            "repetition": "%.3f" % repetition, "rss_bytes": self.rng.randint(20, 400) * 1048576 // 4,
            "ticks": self.ticks, "ticks_per_second": 100, "verdict": verdict,
        }
        if text:
            fields["output"] = text
        self.emit("sample", fields, dt=0)
        return cpu

    def start(self):
        self.emit("run.policy", {"canary_percent": 10, "enforced": "true", "mode": "enforce"})
        self.generation = 1
        self.emit("worker.started", {"pid": self.pid}, dt=0.03)
        self.emit("teardown.mechanism", {"mechanism": "cgroup+pgid+scan"})

    def finish(self):
        self.emit("worker.exited", {"exit_code": 0}, dt=0.3)
        self.emit("teardown.finished", {"cause": "worker exited, exit code 0"}, dt=0.003)

    def incident(self, number, mode, series):
        iid = "%s-%d" % (self.run_id, number)
        cpu = sum(series[-8:]) / max(1, len(series[-8:]))
        confidence = self.rng.uniform(0.89, 0.94)
        entropy = self.rng.uniform(4.1, 4.6)
        reason = ("runaway (repetitive output): CPU %d%% for 2.0s (>= 85%%); 100%% of the last 200 lines repeat "
                  "after normalization (threshold 80%%); entropy %.1f bits/char (healthy >= 2.5); confidence %.2f"
                  % (round(cpu), entropy, confidence))
        tree = "".join("%d ppid=%d pgid=%d %s\n" % (self.pid + i, self.pid if i else self.pid - 4, self.pid,
                                                     "R" if i == 0 else "S") for i in range(self.rng.randint(1, 3)))
        self.emit("incident.opened", {
            "action": mode, "confidence": "%.3f" % confidence, "cpu_percent": "%.1f" % cpu,
            "cpu_series": ",".join("%d" % round(c) for c in series[-30:]), "entropy": "%.2f" % entropy,
            "incident_id": iid, "last_lines": bounded(self.output_lines(RUNAWAY_LINES[:1], 20), 4000),
            "peak_cpu_percent": "%.1f" % max(series[-30:]), "pid": self.pid, "process_tree": tree,
            "reason": reason, "repetition": "0.995", "sustained_seconds": "2.0", "verdict": "repetitiveOutput",
            "worker": self.worker,
        }, incident=iid, dt=0.0008)
        if mode == "log":
            self.emit("policy.decision", {"decision": "log", "enforced": "false", "incident_id": iid}, incident=iid)
            return iid
        cause = "restart requested: runaway detected in %s (pid %d): %s" % (self.worker, self.pid, reason)
        self.emit("action.requested", {"action_id": number, "by": "detector", "incident_id": iid, "kind": "restart",
                                       "reason": "runaway detected in %s (pid %d): %s" % (self.worker, self.pid, reason)},
                  incident=iid)
        self.emit("policy.decision", {"action_id": number, "decision": "restart", "enforced": "true",
                                      "incident_id": iid, "mode": "enforce"}, incident=iid)
        self.emit("teardown.started", {"cause": cause, "incident_id": iid}, incident=iid)
        self.emit("teardown.signal", {"cgroup_members": tree.count("\n"), "incident_id": iid,
                                      "mechanism": "cgroup+pgid+scan", "signal": "SIGTERM"}, incident=iid)
        self.emit("worker.exited", {"incident_id": iid, "signal": 15}, incident=iid, dt=0.005)
        self.emit("teardown.finished", {"cause": cause, "incident_id": iid}, incident=iid, dt=0.02)
        self.generation += 1
        self.pid += self.rng.randint(5, 300)
        self.emit("worker.started", {"incident_id": iid, "pid": self.pid}, incident=iid, dt=0.013)
        self.emit("teardown.mechanism", {"mechanism": "cgroup+pgid+scan"})
        return iid


RESTART_EVENTS = 10  # opened .. worker.started, teardown.mechanism, incident.recovered
LOG_EVENTS = 3       # opened, policy.decision, incident.closed


def make_run(rng, run_id, start, n_events, n_incidents):
    worker = rng.choice(WORKERS)
    modes = ["restart" if rng.random() < 0.75 else "log" for _ in range(n_incidents)]
    n_samples = n_events - 5 - sum(RESTART_EVENTS if m == "restart" else LOG_EVENTS for m in modes)
    if n_incidents and n_samples < 70 * n_incidents:
        sys.exit("make_events.py: too many incidents for %d events per run" % n_events)
    # Where each incident opens (a sample index), one per equal slot, with room for the ramp and recovery.
    plan = {}
    slot = n_samples // max(1, n_incidents)
    for k, mode in enumerate(modes):
        ramp = rng.randint(20, 40)
        tail = 25 if mode == "log" else 6
        lo = k * slot + ramp
        hi = (k + 1) * slot - tail - 1
        plan[rng.randint(lo, max(lo, hi))] = (k + 1, mode, ramp)
    run = Run(rng, run_id, start, worker)
    run.start()
    ramp_until = {}  # sample index -> incident, for the runaway samples before it
    for index, (number, mode, ramp) in plan.items():
        for i in range(index - ramp, index):
            ramp_until[i] = index
    series = []
    pending = None  # (kind, incident id, samples left, mode)
    for i in range(n_samples):
        opening = i in plan
        runaway = i in ramp_until or opening or (pending is not None and pending[3] == "log" and pending[2] > 3)
        verdict = "repetitiveOutput" if opening else "healthy"
        confidence = 0.0
        if runaway and i in ramp_until:
            confidence = min(0.85, 0.03 * (i - (ramp_until[i] - 30)))
            confidence = max(0.0, confidence)
        elif opening:
            confidence = rng.uniform(0.89, 0.94)
        if pending is not None and pending[3] == "log" and pending[2] > 3:
            verdict, confidence = "repetitiveOutput", rng.uniform(0.89, 0.94)
        series.append(run.sample(runaway=runaway, verdict=verdict, confidence=confidence))
        if opening:
            number, mode, _ = plan[i]
            iid = run.incident(number, mode, series)
            pending = (mode, iid, rng.randint(15, 25) if mode == "log" else 4, mode)
            continue
        if pending is not None:
            kind, iid, left, mode = pending
            left -= 1
            if left == 0:
                if mode == "restart":
                    run.emit("incident.recovered", {"incident_id": iid, "outcome": "recovered", "pid": run.pid,
                                                    "recovery_window_seconds": "3.0"}, incident=iid, dt=0.3)
                else:
                    run.emit("incident.closed", {"incident_id": iid, "outcome": "runaway ended", "pid": run.pid,
                                                 "recovery_window_seconds": "3.0"}, incident=iid, dt=0.3)
                pending = None
            else:
                pending = (kind, iid, left, mode)
    run.finish()
    if len(run.lines) != n_events:
        sys.exit("make_events.py: internal error: %d events instead of %d in %s" % (len(run.lines), n_events, run_id))
    return run, modes


def chains(index):
    """incident id -> chain length, with the rule of Timeline.chain (times in integer microseconds)."""
    own = {}
    for seq, t, gen, kind, iid in index:
        if iid is not None:
            own.setdefault(iid, []).append((seq, t, gen))
    out = {}
    for iid, events in own.items():
        first, last = events[0], events[-1]
        samples = sum(1 for seq, t, gen, kind, i in index
                      if i is None and kind == "sample" and gen == first[2] and first[1] - 30_000_000 <= t <= last[1])
        out[iid] = len(events) + samples
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="directory for the spools (created)")
    ap.add_argument("--ids", required=True, help="file for the incident ids and their chain lengths")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--incidents", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--end-epoch", type=float, default=None, help="the newest event's time (default: now)")
    a = ap.parse_args()
    if a.runs < 1 or a.events < a.runs * 10 or a.incidents < a.runs:
        sys.exit("make_events.py: need runs >= 1, events >= 10 * runs and incidents >= runs")
    rng = random.Random(a.seed)
    end = a.end_epoch if a.end_epoch is not None else datetime.datetime.now(datetime.timezone.utc).timestamp()
    os.makedirs(a.out, exist_ok=True)
    total_bytes = 0
    counts = {"restart": 0, "log": 0}
    ids = []
    per_run = [a.events // a.runs + (1 if r < a.events % a.runs else 0) for r in range(a.runs)]
    per_run_incidents = [a.incidents // a.runs + (1 if r < a.incidents % a.runs else 0) for r in range(a.runs)]
    # Runs spread over the last two days (inside the dashboard's default 14-day retention), some overlapping.
    span = 2 * 86400
    for r in range(a.runs):
        length = per_run[r] * 1.0  # seconds: one sample a second
        start = min(end - span + r * span / a.runs + rng.uniform(0, 600), end - length - 60)
        pid = 1000 + r * 997 % 60000
        run_id = "r%s-%d" % (datetime.datetime.fromtimestamp(start, tz=datetime.timezone.utc).strftime("%Y%m%dT%H%M%S"), pid)
        run, modes = make_run(rng, run_id, start, per_run[r], per_run_incidents[r])
        for m in modes:
            counts[m] += 1
        path = os.path.join(a.out, run_id + ".jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(run.lines)
        total_bytes += os.path.getsize(path)
        for iid, n in chains(run.index).items():
            ids.append("%s %d" % (iid, n))
    with open(a.ids, "w", encoding="utf-8") as f:
        f.write("\n".join(ids) + "\n")
    print("events=%d runs=%d incidents=%d bytes=%d restart=%d log=%d"
          % (sum(per_run), a.runs, len(ids), total_bytes, counts["restart"], counts["log"]))


if __name__ == "__main__":
    main()
