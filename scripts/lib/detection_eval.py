#!/usr/bin/env python3
# FlowForge detection corpus: the JSON side of scripts/eval_detection.sh (live runs) and
# scripts/check_detection_corpus.sh (offline replays of Tests/Fixtures/corpus). Standard library only.
"""Helper for eval_detection.sh and check_detection_corpus.sh.

Subcommands:
  result OUT --variant V ...     summarizes OUT/recordings/V.jsonl, appends a row to OUT/results.tsv, prints
                                 the one-line outcome; exit 0 if the run was correct, 3 if not
  report OUT [--doc PATH]        OUT/results.tsv + OUT/eval-info.tsv -> OUT/report.md (and PATH); prints the
                                 summary; exit 0 if every run was correct, 1 if not
  fixtures OUT DEST [--partial]  copies OUT/recordings/*.jsonl to DEST (loghub lines replaced by references),
                                 writes DEST/labels.tsv and DEST/settings.tsv
  prepare DIR TMP                checks DIR/labels.tsv against DIR/*.jsonl, restores referenced loghub lines
                                 into TMP; writes TMP/manifest.tsv, prints FAIL:/SKIP: lines for what can't run
  compare MANIFEST SETTING FILE  compares `flowforge replay` output (FILE) with the labels; PASS:/FAIL: lines

Loghub recordings: the loghub samples (public research logs, /work/shared/corpora/loghub, LICENSE and CITATION
there) must not be copied into the repository. A fixture of a loghub profile therefore stores, instead of each
sample's `output`, an `output_ref` naming the sample file, its SHA-256 and the line numbers; `prepare` puts the
text back from the shared folder before replaying (and SKIPs those recordings when the folder is absent).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tune_report import num, parse_ts, read_events  # noqa: E402

LOOP_TARGET_S = 20.0     # a printing runaway is stopped within 20 s of its onset
SILENT_TARGET_S = 60.0   # a silent spin within 60 s
# A runaway stopped more than this before its onset was stopped during its healthy phase. (Replay counts
# from the first sample, about one sample interval after the worker started.)
EARLY_TOLERANCE_S = 1.0
RESULT_COLUMNS = ["variant", "profile", "label", "buffered", "duration_s", "onset_s", "kind", "verdict",
                  "exit_code", "correct", "latency_s", "survivors", "survivor_pids", "peak_cpu_percent",
                  "confidence", "mean_cpu_percent", "output_lines", "busy_before_percent", "other_cpu_percent",
                  "wall_s", "timed_out", "replay", "why"]
LABEL_HEADER = "recording\tlabel\tprofile\tonset"
REDACTED = "(loghub lines: not stored in the repository, see output_ref in the sample events)"


def clean(text):
    """One TSV/markdown-safe line."""
    return " ".join(str(text).split())


def unquote(text):
    """`text` with every double-quoted part (a reason quoting an output line) replaced: for loghub runs, whose
    lines must not end up in the repository."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', '"(a loghub line)"', text)


def fmt(value, digits=1, none=""):
    return none if value is None else f"{value:.{digits}f}"


# ----------------------------------------------------------------------------------------------- result

def summarize(path, onset):
    """What one live run did, from its events file."""
    events = read_events(path) if os.path.exists(path) else []
    started = None
    incident = None
    peak = None
    max_conf = 0.0
    lines = 0
    span = {}  # generation -> [first ts, first ticks, last ts, last ticks, ticks per second]
    for e in events:
        kind = e.get("kind")
        fields = e.get("fields") or {}
        if kind == "worker.started" and started is None:
            started = parse_ts(e["ts"])
        elif kind == "incident.opened" and incident is None:
            incident = e
        elif kind == "sample":
            cpu = num(fields.get("cpu_percent"))
            if cpu is not None:
                peak = cpu if peak is None else max(peak, cpu)
            max_conf = max(max_conf, num(fields.get("confidence"), 0.0))
            output = fields.get("output")
            if isinstance(output, str) and output:
                lines += output.count("\n") + 1
            ticks, tps = num(fields.get("ticks")), num(fields.get("ticks_per_second"))
            if ticks is not None and tps:
                ts = parse_ts(e["ts"])
                s = span.setdefault(e.get("generation", 0), [ts, ticks, ts, ticks, tps])
                s[2], s[3] = ts, ticks
    used = sum((s[3] - s[1]) / s[4] for s in span.values() if s[3] >= s[1])
    wall = sum(s[2] - s[0] for s in span.values())
    out = {"events": len(events), "stopped": incident is not None, "latency": None, "peak_cpu": peak,
           "confidence": max_conf, "mean_cpu": 100 * used / wall if wall > 0 else None, "lines": lines,
           "reason": ""}
    if incident is not None:
        f = incident.get("fields") or {}
        out["reason"] = str(f.get("reason", ""))
        out["confidence"] = max(max_conf, num(f.get("confidence"), 0.0))
        if started is not None:
            out["latency"] = parse_ts(incident["ts"]) - started - onset
    return out


def replay_summary(path):
    """('detected'|'not detected'|'', first reason) from a file of `flowforge replay` JSON lines."""
    if not path or not os.path.exists(path) or os.path.getsize(path) == 0:
        return "", ""
    detected, reason = False, ""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict) and r.get("detected"):
                if not detected:
                    reason = str(r.get("reason") or "")
                detected = True
            elif isinstance(r, dict) and not reason and (r.get("why") or r.get("reason")):
                reason = str(r.get("why") or r["reason"])  # why replay left a healthy recording alone
    return ("detected" if detected else "not detected"), reason


def cmd_result(a):
    rec = os.path.join(a.out, "recordings", a.variant + ".jsonl")
    onset = float(a.onset)
    s = summarize(rec, onset)
    replay, replay_reason = replay_summary(a.replay)
    survivors = int(a.survivors)
    early = s["latency"] is not None and onset > 0 and s["latency"] < -EARLY_TOLERANCE_S
    if a.label == "runaway":
        # Stopped before its onset = stopped during its healthy phase: a false positive, not a catch.
        correct = s["stopped"] and survivors == 0 and not early
    else:
        correct = not s["stopped"]
    if a.label != "runaway":
        kind = "healthy"
    elif a.buffered == "yes":
        kind = "buffered loop"
    elif s["lines"] <= 2:
        kind = "silent spin"
    else:
        kind = "text loop"
    why = s["reason"] or (("replay: " + replay_reason) if replay_reason else "")
    if a.profile.startswith("loghub_"):
        why = unquote(why)  # the report may be committed (docs/DETECTION_QUALITY.md)
    notes = []
    if s["events"] == 0:
        notes.append(f"no events recorded (flowforge exit {a.exit_code}; see logs/{a.variant}.log)")
    if a.timed_out == "1":
        notes.append(f"overran {float(a.duration) + 30:.0f} s: the flowforge group was killed")
    if a.survivor_pids:
        notes.append(f"survivors killed: {a.survivor_pids}")
    if early:
        notes.append(f"stopped {-s['latency']:.1f} s BEFORE its onset, during its healthy phase")
    if s["stopped"] and a.exit_code not in ("120",):
        notes.append(f"flowforge exit {a.exit_code} (120 expected after a kill)")
    other = None
    machine = num(a.machine_cpu)
    if machine is not None and s["mean_cpu"] is not None:
        other = max(0.0, machine - s["mean_cpu"])
        if other > 30:
            notes.append(f"other work used ~{other:.0f}% of a core during the run: CPU readings skewed")
    if notes:
        why = (why + "; " if why else "") + "; ".join(notes)
    verdict = "stopped" if s["stopped"] else "not stopped"
    row = {
        "variant": a.variant, "profile": a.profile, "label": a.label, "buffered": a.buffered,
        "duration_s": a.duration, "onset_s": a.onset, "kind": kind, "verdict": verdict, "exit_code": a.exit_code,
        "correct": "yes" if correct else "no", "latency_s": fmt(s["latency"]), "survivors": str(survivors),
        "survivor_pids": a.survivor_pids or "", "peak_cpu_percent": fmt(s["peak_cpu"]),
        "confidence": fmt(s["confidence"], 3), "mean_cpu_percent": fmt(s["mean_cpu"]),
        "output_lines": str(s["lines"]), "busy_before_percent": a.busy_before,
        "other_cpu_percent": fmt(other, 0), "wall_s": a.wall, "timed_out": a.timed_out, "replay": replay,
        "why": clean(why),
    }
    path = os.path.join(a.out, "results.tsv")
    # A re-run of a variant into the same OUT (eval_detection.sh --out OUT --only NAME) replaces its row.
    kept = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        kept = [line for line in lines[1:] if line.split("\t", 1)[0] != a.variant]
    tmp = path + ".new"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\t".join(RESULT_COLUMNS) + "\n")
        for line in kept:
            f.write(line + "\n")
        f.write("\t".join(clean(row[c]) for c in RESULT_COLUMNS) + "\n")
    os.replace(tmp, path)
    if s["stopped"]:
        text = f"stopped after {fmt(s['latency'])} s (confidence {fmt(s['confidence'], 3)}, peak CPU {fmt(s['peak_cpu'])}%)"
    else:
        text = f"not stopped (peak CPU {fmt(s['peak_cpu'], none='-')}%, max confidence {fmt(s['confidence'], 3)})"
    text += f", {survivors} survivor{'s' if survivors != 1 else ''}"
    text += " - ok" if correct else (" - WRONG (healthy worker stopped)" if a.label != "runaway" else " - WRONG")
    if notes:
        text += " [" + "; ".join(notes) + "]"
    print(text)
    return 0 if correct else 3


# ----------------------------------------------------------------------------------------------- report

def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                cols = line.rstrip("\n").split("\t")
                rows.append(dict(zip(header, cols + [""] * (len(header) - len(cols)))))
    return rows


def read_info(path):
    info = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("\t")
                info[k] = v
    return info


def md(text):
    return clean(text).replace("|", "\\|")


def output_latency(out_dir, variant, onset):
    """Seconds from the later of the onset and the moment FlowForge had received enough output to judge (the
    sample event at which 20 lines, --min-lines, had arrived) to the incident: for block-buffered output,
    the time FlowForge had to see anything."""
    path = os.path.join(out_dir, "recordings", variant + ".jsonl")
    if not os.path.exists(path):
        return None
    started = first_output = incident = None
    seen = 0
    for e in read_events(path):
        kind = e.get("kind")
        if kind == "worker.started" and started is None:
            started = parse_ts(e["ts"])
        elif kind == "sample" and first_output is None and (e.get("fields") or {}).get("output"):
            seen += str(e["fields"]["output"]).count("\n") + 1
            if seen >= 20:
                first_output = parse_ts(e["ts"])
        elif kind == "incident.opened" and incident is None:
            incident = parse_ts(e["ts"])
    if started is None or incident is None:
        return None
    return incident - max(started + onset, first_output if first_output is not None else started)


def latency_group(rows, kind, target):
    group = [r for r in rows if r["kind"] == kind]
    if not group:
        return None
    lat = [float(r["latency_s"]) for r in group if r["verdict"] == "stopped" and r["latency_s"]]
    missed = [r["variant"] for r in group if r["verdict"] != "stopped"]
    late = [r["variant"] for r in group if r["verdict"] == "stopped" and r["latency_s"]
            and float(r["latency_s"]) > target]
    return {"n": len(group), "stopped": len(lat), "median": statistics.median(lat) if lat else None,
            "max": max(lat) if lat else None, "met": not missed and not late, "missed": missed, "late": late}


def cmd_report(a):
    rows = read_tsv(os.path.join(a.out, "results.tsv")) if os.path.exists(os.path.join(a.out, "results.tsv")) else []
    info = read_info(os.path.join(a.out, "eval-info.tsv"))
    healthy = [r for r in rows if r["label"] == "healthy"]
    runaway = [r for r in rows if r["label"] == "runaway"]
    h_stopped = [r for r in healthy if r["verdict"] == "stopped"]
    r_stopped = [r for r in runaway if r["verdict"] == "stopped"]
    survivors = sum(int(r["survivors"] or 0) for r in rows)
    wrong = [r for r in rows if r["correct"] != "yes"]
    groups = [("text loops", "text loop", LOOP_TARGET_S), ("block-buffered loops", "buffered loop", LOOP_TARGET_S),
              ("silent spins", "silent spin", SILENT_TARGET_S)]
    profiles = sorted({r["profile"] for r in rows})

    out = []
    out.append("# Detection quality")
    out.append("")
    out.append(f"Written by `scripts/eval_detection.sh{info.get('args', '')}` on {info.get('started', '?')}. "
               "Do not edit by hand: re-run the script with `--write-doc`.")
    out.append("")
    nbuf = sum(1 for r in rows if r["buffered"] == "yes")
    out.append(f"Each of {len(profiles)} labelled workload profiles in `scripts/profiles/` ran on its own under "
               "`flowforge run --on-runaway kill --events ...`, as a user would run it. A run is correct when "
               "a runaway was stopped (not before its onset) with nothing of its process tree left 2 s after "
               "FlowForge exited, or a healthy worker was not stopped. Latency is from the worker's start (minus the profile's onset, "
               "when its runaway behaviour starts late) to the `incident.opened` event. See "
               "`scripts/profiles/README.md` for what each profile does and why it has its label. "
               f"{len(rows)} runs, {nbuf} of them the block-buffered variant of a runaway that prints "
               "(`NAME+buffered`: `FF_PROFILE_BUFFERED=1` and `--no-python-unbuffered`, so its output reaches "
               "FlowForge in 8 KiB blocks, as from a Python worker that does not flush).")
    out.append("")
    out.append(f"- thresholds: {info.get('thresholds') or 'FlowForge defaults (no threshold flags given)'}")
    out.append(f"- flowforge: `{info.get('binary', '?')}` at commit {info.get('git', '?')}")
    out.append(f"- machine: {info.get('host', '?')}")
    if info.get("profile_duration"):
        out.append(f"- **shortened run**: every profile ran {info['profile_duration']} s (FF_PROFILE_DURATION); "
                   "the results are a smoke test, not a measurement")
    busy = [r for r in rows if (num(r.get("other_cpu_percent")) or 0) > 30]
    if busy:
        out.append(f"- {len(busy)} run(s) competed with other work on the machine (over 30% of a core): "
                   + ", ".join(r["variant"] for r in busy))
    out.append("")
    out.append("## Summary")
    out.append("")
    out.append("| measure | result | target | met |")
    out.append("|---|---|---|---|")
    out.append(f"| healthy runs stopped | {len(h_stopped)}/{len(healthy)} | 0 | {'yes' if not h_stopped else 'no'} |")
    out.append(f"| runaway runs stopped | {len(r_stopped)}/{len(runaway)} | all | "
               f"{'yes' if len(r_stopped) == len(runaway) else 'no'} |")
    out.append(f"| processes left behind | {survivors} | 0 | {'yes' if survivors == 0 else 'no'} |")
    for title, kind, target in groups:
        g = latency_group(rows, kind, target)
        if g is None:
            continue
        out.append(f"| {title}: latency median / max | {fmt(g['median'], none='-')} / {fmt(g['max'], none='-')} s "
                   f"({g['stopped']}/{g['n']} stopped) | within {target:.0f} s of onset | {'yes' if g['met'] else 'no'} |")
    buffered_rows = [r for r in rows if r["kind"] == "buffered loop" and r["verdict"] == "stopped"]
    after_output = [x for x in (output_latency(a.out, r["variant"], float(r["onset_s"] or 0)) for r in buffered_rows)
                    if x is not None]
    if after_output:
        worst = max(after_output)
        out.append(f"| block-buffered loops, from their first 20 lines of output: median / max | "
                   f"{fmt(statistics.median(after_output))} / {fmt(worst)} s | within {LOOP_TARGET_S:.0f} s | "
                   f"{'yes' if worst <= LOOP_TARGET_S else 'no'} |")
        out.append("")
        out.append("A block-buffered worker's output reaches FlowForge only when its 8 KiB buffer fills: a loop "
                   "printing a few hundred bytes a second is invisible for half a minute (each child of "
                   "`multiproc_runaway+buffered` prints about 275 bytes a second, so its first block arrives after "
                   "about 30 s). The second latency row for them counts from the later of the onset and the moment the "
                   "first 20 lines had arrived.")
    out.append("")
    if wrong:
        out.append("Not correct: " + ", ".join(f"`{r['variant']}` ({r['label']}, {r['verdict']}"
                                                 + (f", {r['survivors']} survivors" if r['survivors'] not in ('', '0') else "")
                                                 + ")" for r in wrong) + ".")
    else:
        out.append("Every run was correct.")
    out.append("")
    out.append("## Runs")
    out.append("")
    out.append("| variant | label | verdict | correct | latency s | survivors | peak CPU % | confidence | why |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["label"] != "runaway", r["variant"])):
        if not r["why"]:
            # Rows written before replay explained healthy verdicts: ask the replay file again.
            _, why = replay_summary(os.path.join(a.out, "replay", r["variant"] + ".json"))
            if why:
                why = "replay: " + why
                r["why"] = clean(unquote(why) if r["profile"].startswith("loghub_") else why)
        verdict = r["verdict"] + (f" (exit {r['exit_code']})" if r["exit_code"] else "")
        out.append(f"| {md(r['variant'])} | {r['label']} | {verdict} | {r['correct']} | {r['latency_s'] or '-'} | "
                   f"{r['survivors']} | {r['peak_cpu_percent'] or '-'} | {r['confidence'] or '-'} | {md(r['why'])} |")
    out.append("")
    out.append("Columns: *latency* from the worker's start minus the profile's onset; *survivors* processes carrying "
               "the run's marker 2 s after FlowForge exited (killed by the script); *peak CPU* and *confidence* "
               "the highest values in the run's `sample` events; *why* the incident's reason, or for runs that "
               "were not stopped the reason `flowforge replay` gives for the recording, if any. Raw data: "
               "`results.tsv` next to the recordings.")
    text = "\n".join(out) + "\n"
    with open(os.path.join(a.out, "report.md"), "w", encoding="utf-8") as f:
        f.write(text)
    if a.doc:
        with open(a.doc, "w", encoding="utf-8") as f:
            f.write(text)

    print(f"healthy runs stopped: {len(h_stopped)}/{len(healthy)} (target 0)")
    print(f"runaway runs stopped: {len(r_stopped)}/{len(runaway)} (target all)")
    print(f"processes left behind: {survivors} (target 0)")
    for title, kind, target in groups:
        g = latency_group(rows, kind, target)
        if g is not None:
            print(f"{title}: median {fmt(g['median'], none='-')} s, max {fmt(g['max'], none='-')} s "
                  f"({g['stopped']}/{g['n']} stopped; target within {target:.0f} s of onset: "
                  f"{'met' if g['met'] else 'NOT met'})")
    for r in wrong:
        print(f"WRONG: {r['variant']} ({r['label']}): {r['verdict']}, {r['survivors']} survivors"
              + (f"; {r['why']}" if r["why"] else ""))
    return 0 if rows and not wrong else 1


# --------------------------------------------------------------------------------------------- fixtures

def loghub_name(profile_path):
    """The loghub sample a profile replays (from its replay_log("NAME", ...) call), or None."""
    try:
        with open(profile_path, encoding="utf-8") as f:
            m = re.search(r"replay_log\(\s*[\"']([^\"']+)[\"']", f.read())
    except OSError:
        return None
    return m.group(1) if m else None


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def corpus_lines(path):
    """The sample's lines exactly as ffprofile.replay_log prints them."""
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


FORMS = {"=": lambda s: s, "rstrip": lambda s: s.rstrip(), "strip": lambda s: s.strip()}


class LineIndex:
    """Finds recorded lines in a corpus file: exactly, with whitespace trimmed, or as a prefix (the last line
    of a sample's output can be cut at its byte bound)."""

    def __init__(self, lines):
        self.lines = lines
        self.by_form = {}
        for form, fn in FORMS.items():
            index = {}
            for i, line in enumerate(lines):
                index.setdefault(fn(line), []).append(i)
            self.by_form[form] = index

    def find(self, text, cursor):
        for form in FORMS:
            hits = self.by_form[form].get(text)
            if hits:
                after = [i for i in hits if i >= cursor]
                return (after[0] if after else hits[0]), form
        if text:
            order = list(range(cursor, len(self.lines))) + list(range(0, cursor))
            for i in order:
                if self.lines[i].startswith(text):
                    return i, "prefix"
        return None, None


def encode_output(text, index, cursor):
    """Parts that rebuild `text` from the corpus: [first line (1-based), count, form], ["prefix", line, chars]
    or a literal string (a line that is not in the corpus). Returns (parts, new cursor, corpus lines used)."""
    parts = []
    used = 0
    for line in text.split("\n"):
        i, form = index.find(line, cursor)
        if i is None:
            parts.append(line)
            continue
        used += 1
        cursor = i + 1
        if form == "prefix":
            parts.append(["prefix", i + 1, len(line)])
        elif parts and isinstance(parts[-1], list) and parts[-1][0] != "prefix" and parts[-1][2] == form \
                and parts[-1][0] + parts[-1][1] == i + 1:
            parts[-1][1] += 1
        else:
            parts.append([i + 1, 1, form])
    return parts, cursor, used


def decode_output(parts, lines):
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif p[0] == "prefix":
            out.append(lines[p[1] - 1][:p[2]])
        else:
            fn = FORMS[p[2]]
            out.extend(fn(lines[i]) for i in range(p[0] - 1, p[0] - 1 + p[1]))
    return "\n".join(out)


def redact_recording(src, dst, name, corpus_path):
    """Copies recording src to dst with every sample's output replaced by references into the loghub sample."""
    lines = corpus_lines(corpus_path)
    index = LineIndex(lines)
    digest = sha256_of(corpus_path)
    cursor = 0
    literal = 0
    with open(src, encoding="utf-8", errors="replace") as fin, open(dst, "w", encoding="utf-8") as fout:
        for raw in fin:
            raw = raw.rstrip("\n")
            if not raw.strip():
                continue
            try:
                e = json.loads(raw)
            except ValueError:
                continue  # a line cut short when the writer was killed: replay skips it anyway
            fields = e.get("fields") if isinstance(e, dict) else None
            if isinstance(fields, dict):
                if e.get("kind") == "sample" and isinstance(fields.get("output"), str) and fields["output"]:
                    parts, cursor, _ = encode_output(fields["output"], index, cursor)
                    literal += sum(1 for p in parts if isinstance(p, str))
                    assert decode_output(parts, lines) == fields["output"]
                    del fields["output"]
                    fields["output_ref"] = {"loghub": name, "sha256": digest, "parts": parts}
                if isinstance(fields.get("last_lines"), str) and fields["last_lines"]:
                    fields["last_lines"] = REDACTED
                for key, value in fields.items():
                    if key != "last_lines" and isinstance(value, str):
                        fields[key] = unquote(value)  # a reason may quote an output line
            fout.write(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n")
    return literal


def restore_recording(src, dst, loghub_dir):
    """Writes src to dst with output_ref parts replaced by the corpus text. Returns None, or why it can't."""
    cache = {}
    with open(src, encoding="utf-8") as fin:
        events = [line for line in fin]
    out = []
    for raw in events:
        try:
            e = json.loads(raw)
        except ValueError:
            out.append(raw.rstrip("\n"))
            continue
        fields = e.get("fields") if isinstance(e, dict) else None
        ref = fields.get("output_ref") if isinstance(fields, dict) else None
        if isinstance(ref, dict):
            name = ref.get("loghub", "")
            if name not in cache:
                path = os.path.join(loghub_dir, name) if loghub_dir else ""
                if not path or not os.path.isfile(path):
                    return f"needs the loghub sample {name}, not found in {loghub_dir or '(no folder)'}"
                if sha256_of(path) != ref.get("sha256"):
                    return f"the loghub sample {path} differs from the one recorded (SHA-256 mismatch)"
                cache[name] = corpus_lines(path)
            fields["output"] = decode_output(ref.get("parts", []), cache[name])
            del fields["output_ref"]
        out.append(json.dumps(e, separators=(",", ":"), ensure_ascii=False))
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return None


def read_labels(path):
    """[(recording, label, profile, onset)] from a labels.tsv; raises ValueError on a malformed line."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if cols[:2] == ["recording", "label"]:
                continue
            if len(cols) < 2 or cols[1] not in ("runaway", "healthy"):
                raise ValueError(f"{path}:{n}: expected 'RECORDING<TAB>runaway|healthy[<TAB>PROFILE<TAB>ONSET]', "
                                 f"got {line!r}")
            onset = cols[3] if len(cols) > 3 and cols[3] else "0"
            if num(onset) is None:
                raise ValueError(f"{path}:{n}: onset must be a number of seconds, got {onset!r}")
            rows.append((cols[0], cols[1], cols[2] if len(cols) > 2 else "", onset))
    return rows


def cmd_fixtures(a):
    results = read_tsv(os.path.join(a.out, "results.tsv"))
    os.makedirs(a.dest, exist_ok=True)
    labels_path = os.path.join(a.dest, "labels.tsv")
    kept = {}
    if a.partial and os.path.exists(labels_path):
        for rec, label, profile, onset in read_labels(labels_path):
            kept[rec] = (label, profile, onset)
    elif not a.partial:
        for name in os.listdir(a.dest):
            if name.endswith(".jsonl"):
                os.remove(os.path.join(a.dest, name))
    for r in results:
        rec = r["variant"] + ".jsonl"
        src = os.path.join(a.out, "recordings", rec)
        if not os.path.exists(src):
            print(f"fixtures: {rec}: no recording, left out", file=sys.stderr)
            kept.pop(rec, None)
            continue
        dst = os.path.join(a.dest, rec)
        name = loghub_name(os.path.join(a.profiles, r["profile"]))
        if name:
            literal = redact_recording(src, dst, name, os.path.join(a.loghub_dir, name))
            note = f" (loghub lines stored as references{f'; {literal} other lines kept' if literal else ''})"
        else:
            shutil.copyfile(src, dst)
            note = ""
        kept[rec] = (r["label"], r["profile"], r["onset_s"] or "0")
        print(f"fixtures: {rec} ({r['label']}){note}")
    with open(labels_path, "w", encoding="utf-8") as f:
        f.write(LABEL_HEADER + "\n")
        for rec in sorted(kept):
            label, profile, onset = kept[rec]
            f.write(f"{rec}\t{label}\t{profile}\t{onset}\n")
    shutil.copyfile(os.path.join(a.out, "settings.tsv"), os.path.join(a.dest, "settings.tsv"))
    wrong = [r["variant"] for r in results if r["correct"] != "yes"]
    if wrong:
        print("fixtures: warning: these runs were not correct live, so check_detection_corpus.sh will most likely "
              "fail on them too: " + ", ".join(wrong), file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------------ check

def cmd_prepare(a):
    """Writes TMP/manifest.tsv (recording, label, onset, path to replay); prints FAIL:/SKIP: lines."""
    labels_path = os.path.join(a.dir, "labels.tsv")
    try:
        rows = read_labels(labels_path)
    except FileNotFoundError:
        print(f"FAIL: {labels_path} not found (eval_detection.sh --update-fixtures writes it)")
        return 0
    except ValueError as e:
        print(f"FAIL: {e}")
        return 0
    present = sorted(n for n in os.listdir(a.dir) if n.endswith(".jsonl"))
    labelled = {r[0] for r in rows}
    for name in present:
        if name not in labelled:
            print(f"FAIL: {name}: no label in {labels_path}")
    restored_dir = os.path.join(a.tmp, "restored")
    os.makedirs(restored_dir, exist_ok=True)
    with open(os.path.join(a.tmp, "manifest.tsv"), "w", encoding="utf-8") as m:
        for rec, label, profile, onset in rows:
            src = os.path.join(a.dir, rec)
            if not os.path.isfile(src):
                print(f"FAIL: {rec}: labelled {label} in {labels_path}, but the recording is missing")
                continue
            path = src
            with open(src, encoding="utf-8", errors="replace") as f:
                has_ref = '"output_ref"' in f.read()
            if has_ref:
                path = os.path.join(restored_dir, rec)
                why = restore_recording(src, path, a.loghub_dir)
                if why:
                    print(f"SKIP: {rec}: {why} (set FLOWFORGE_LOGHUB_DIR)")
                    continue
            m.write(f"{rec}\t{label}\t{onset}\t{path}\n")
    return 0


def cmd_compare(a):
    results = {}
    with open(a.replay, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict) and "file" in r:
                results.setdefault(os.path.abspath(r["file"]), []).append(r)
    with open(a.manifest, encoding="utf-8") as f:
        entries = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for rec, label, onset, path in entries:
        runs = results.get(os.path.abspath(path), [])
        tag = f"{rec} [{a.setting}]"
        if not runs:
            print(f"FAIL: {tag}: expected {label}, but replay gave no result (no sample events?)")
            continue
        hit = next((r for r in runs if r.get("detected")), None)
        peak = max((num(r.get("peak_cpu_percent"), 0.0) for r in runs), default=0.0)
        conf = max((num(r.get("confidence"), 0.0) for r in runs), default=0.0)
        if label == "runaway":
            lat = None if hit is None else num(hit.get("latency_seconds"))
            if hit is not None and lat is not None and float(onset) > 0 and lat - float(onset) < -EARLY_TOLERANCE_S:
                print(f"FAIL: {tag}: expected runaway from {float(onset):g} s on, but replay detected it after "
                      f"{lat:.1f} s, during its healthy phase: {clean(hit.get('reason', ''))}")
            elif hit is not None:
                lat_text = "?" if lat is None else f"{lat - float(onset):.1f}"
                print(f"PASS: {tag}: runaway caught after {lat_text} s from onset "
                      f"(confidence {num(hit.get('confidence'), 0.0):.3f})")
            else:
                print(f"FAIL: {tag}: expected runaway (caught), but replay did not detect it "
                      f"(peak CPU {peak:.1f}%, max confidence {conf:.3f})"
                      + (f"; replay: {clean(runs[0].get('reason'))}" if runs[0].get("reason") else ""))
        else:
            if hit is None:
                print(f"PASS: {tag}: healthy, not detected (peak CPU {peak:.1f}%, max confidence {conf:.3f})")
            else:
                lat = num(hit.get("latency_seconds"))
                print(f"FAIL: {tag}: expected healthy (not detected), but replay detected a runaway after "
                      f"{'?' if lat is None else f'{lat:.1f}'} s: {clean(hit.get('reason', ''))}")
    return 0


def main(argv):
    p = argparse.ArgumentParser(prog="detection_eval.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("result")
    r.add_argument("out")
    for name in ("variant", "profile", "label", "buffered", "duration", "onset", "exit-code", "timed-out",
                 "survivors", "survivor-pids", "busy-before", "machine-cpu", "wall", "replay"):
        r.add_argument("--" + name, default="")
    rp = sub.add_parser("report")
    rp.add_argument("out")
    rp.add_argument("--doc")
    fx = sub.add_parser("fixtures")
    fx.add_argument("out")
    fx.add_argument("dest")
    fx.add_argument("--profiles", required=True)
    fx.add_argument("--loghub-dir", required=True)
    fx.add_argument("--partial", action="store_true")
    pr = sub.add_parser("prepare")
    pr.add_argument("dir")
    pr.add_argument("tmp")
    pr.add_argument("--loghub-dir", default="")
    cp = sub.add_parser("compare")
    cp.add_argument("manifest")
    cp.add_argument("setting")
    cp.add_argument("replay")
    a = p.parse_args(argv)
    return {"result": cmd_result, "report": cmd_report, "fixtures": cmd_fixtures, "prepare": cmd_prepare,
            "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
