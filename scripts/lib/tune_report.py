#!/usr/bin/env python3
# FlowForge detection tuning: reads events files and `flowforge replay` output, writes the pilot report
# (report.md/report.tsv/labels.tsv) and the threshold-sweep table, recommendation and HTML report.
"""Helper for scripts/week1_pilot.sh and scripts/tune_detection.sh (standard library only).

Subcommands:
  summarize FILE.jsonl          one TSV line: outcome, latency_s, peak_cpu, confidence, reason
  pilot DIR                     DIR/runs.tsv + DIR/*.jsonl -> report.tsv, report.md, labels.tsv; prints the table
  labels DIR                    prints the labelled recordings of DIR (paths), errors if labels.tsv is unusable
  tune --recordings DIR --index FILE --html PATH [--json PATH] [--fixed TEXT]
                                aggregates a replay sweep, prints the table and recommendation, writes HTML
"""
import argparse
import datetime
import html
import json
import os
import statistics
import sys

TERMINATING = {"would_restart", "would_kill", "restart", "kill"}
# Percent of one core that other processes may use during a pilot run before its CPU readings are suspect.
OTHER_WORK_LIMIT = 30
LABELS = ("runaway", "healthy")


# ---------------------------------------------------------------------------------------------- events

def parse_ts(text):
    """RFC 3339 timestamp -> seconds since the epoch (float)."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    # Python before 3.11 accepts at most 6 fractional digits.
    if "." in t:
        head, rest = t.split(".", 1)
        frac = ""
        i = 0
        while i < len(rest) and rest[i].isdigit():
            frac += rest[i]
            i += 1
        t = head + "." + (frac[:6] or "0") + rest[i:]
    return datetime.datetime.fromisoformat(t).timestamp()


def num(value, default=None):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def read_events(path):
    """The events of one file, skipping lines that are not JSON objects (a truncated last line)."""
    events = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if isinstance(e, dict):
                events.append(e)
    return events


def summarize_events(events):
    """Outcome of one recorded run (all generations together, as the pilot runs in shadow mode)."""
    first_sample = {}
    tick_span = {}  # generation -> [first ts, first ticks, last ts, last ticks, ticks per second]
    peak = None
    max_conf = 0.0
    samples = 0
    decision = None
    incident = None
    for e in events:
        kind = e.get("kind")
        fields = e.get("fields") or {}
        gen = e.get("generation", 0)
        if kind == "sample":
            samples += 1
            if gen not in first_sample:
                first_sample[gen] = parse_ts(e["ts"])
            ticks, tps = num(fields.get("ticks")), num(fields.get("ticks_per_second"))
            if ticks is not None and tps:
                ts = parse_ts(e["ts"])
                span = tick_span.setdefault(gen, [ts, ticks, ts, ticks, tps])
                span[2], span[3] = ts, ticks
            cpu = num(fields.get("cpu_percent"))
            if cpu is not None:
                peak = cpu if peak is None else max(peak, cpu)
            max_conf = max(max_conf, num(fields.get("confidence"), 0.0))
        elif kind == "incident.opened" and incident is None:
            incident = e
        elif kind == "policy.decision" and decision is None:
            if str(fields.get("decision")) in TERMINATING:
                decision = e
    used = sum((s[3] - s[1]) / s[4] for s in tick_span.values() if s[3] >= s[1])
    wall = sum(s[2] - s[0] for s in tick_span.values())
    out = {"samples": samples, "peak_cpu": peak, "terminated": decision is not None,
           "mean_cpu": 100 * used / wall if wall > 0 else None,
           "latency": None, "confidence": max_conf, "reason": "", "decision": ""}
    if decision is not None:
        gen = decision.get("generation", 0)
        start = first_sample.get(gen, min(first_sample.values()) if first_sample else None)
        if start is not None:
            out["latency"] = max(0.0, parse_ts(decision["ts"]) - start)
        out["decision"] = str((decision.get("fields") or {}).get("decision"))
        inc_id = decision.get("incident_id") or (decision.get("fields") or {}).get("incident_id")
        for e in events:
            if e.get("kind") == "incident.opened" and (
                    inc_id is None or e.get("incident_id") == inc_id
                    or (e.get("fields") or {}).get("incident_id") == inc_id):
                incident = e
                break
    if incident is not None:
        f = incident.get("fields") or {}
        if decision is not None:
            out["confidence"] = num(f.get("confidence"), out["confidence"])
        out["reason"] = str(f.get("reason", ""))
        if decision is None:
            out["reason"] = "incident opened, but no kill/restart decision: " + out["reason"]
    return out


def fmt(value, digits=1, none="-"):
    if value is None:
        return none
    return f"{value:.{digits}f}"


def tsv_clean(text):
    return " ".join(str(text).split())


def correctness(label, flagged):
    if label == "runaway":
        return "caught" if flagged else "MISSED"
    if label == "healthy":
        return "FALSE POSITIVE" if flagged else "ok"
    return "?"


# ----------------------------------------------------------------------------------------------- pilot

def cmd_summarize(args):
    s = summarize_events(read_events(args.file))
    print("\t".join([
        "terminated" if s["terminated"] else "not terminated", fmt(s["latency"]), fmt(s["peak_cpu"]),
        fmt(s["confidence"], 3), str(s["samples"]), fmt(s["mean_cpu"]), tsv_clean(s["reason"])[:200]]))
    return 0


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = None
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                continue
            rows.append(dict(zip(header, cols)))
    return rows


def markdown_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


def text_table(header, rows):
    widths = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(str(c)))
    lines = ["  ".join(str(h).ljust(widths[i]) for i, h in enumerate(header))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(lines)


def cmd_pilot(args):
    d = args.dir
    runs = read_tsv(os.path.join(d, "runs.tsv"))
    meta = {}
    meta_path = os.path.join(d, "settings.tsv")
    settings = []
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    k, _, v = line.rstrip("\n").partition("\t")
                    settings.append((k, v))
    info_path = os.path.join(d, "pilot-info.tsv")
    if os.path.exists(info_path):
        with open(info_path, encoding="utf-8") as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("\t")
                meta[k] = v

    header = ["profile", "label", "outcome", "latency_s", "peak_cpu_percent", "confidence", "result", "reason"]
    rows = []
    contended = []
    for r in runs:
        rec = os.path.join(d, r["recording"])
        if os.path.exists(rec):
            s = summarize_events(read_events(rec))
        else:
            s = {"terminated": False, "latency": None, "peak_cpu": None, "confidence": 0.0,
                 "reason": "no recording (flowforge exit %s)" % r.get("exit_code", "?"), "samples": 0}
        outcome = "terminated" if s["terminated"] else "not terminated"
        note = tsv_clean(s["reason"])
        if r.get("exit_code") not in (None, "", "0"):
            note = (note + "; " if note else "") + "flowforge exit %s" % r["exit_code"]
        machine = num(r.get("machine_cpu_percent"))
        if machine is not None and s.get("mean_cpu") is not None:
            other = machine - s["mean_cpu"]
            if other > OTHER_WORK_LIMIT:
                note = (note + "; " if note else "") + (
                    "other work on the machine used ~%d%% of a core during the run (the worker averaged %d%%): "
                    "CPU readings are skewed, re-run on a quiet machine" % (other, s["mean_cpu"]))
                contended.append(r["profile"])
        rows.append([r["profile"], r["label"], outcome, fmt(s["latency"]), fmt(s["peak_cpu"]),
                     fmt(s["confidence"], 3), correctness(r["label"], s["terminated"]), note])

    with open(os.path.join(d, "report.tsv"), "w", encoding="utf-8") as f:
        f.write("\t".join(header) + "\n")
        for row in rows:
            f.write("\t".join(tsv_clean(c) for c in row) + "\n")
    with open(os.path.join(d, "labels.tsv"), "w", encoding="utf-8") as f:
        f.write("# recording\tlabel\tprofile (written by week1_pilot.sh; edit labels here to retag a recording)\n")
        f.write("recording\tlabel\tprofile\n")
        for r in runs:
            f.write(f"{r['recording']}\t{r['label']}\t{r['file']}\n")

    runaways = [row for row in rows if row[1] == "runaway"]
    healthy = [row for row in rows if row[1] == "healthy"]
    caught = sum(1 for row in runaways if row[2] == "terminated")
    flagged = sum(1 for row in healthy if row[2] == "terminated")
    verdict = (f"Verdict: caught {caught}/{len(runaways)} runaways; "
               f"wrongly flagged {flagged}/{len(healthy)} healthy profiles.")
    missed = [row[0] for row in runaways if row[2] != "terminated"]
    wrong = [row[0] for row in healthy if row[2] == "terminated"]
    if missed:
        verdict += " Missed: " + ", ".join(missed) + "."
    if wrong:
        verdict += " False positives: " + ", ".join(wrong) + "."
    if contended:
        verdict += (f" Warning: {len(contended)} profile(s) competed with other work for CPU "
                    f"({', '.join(contended)}); see the notes in report.md.")

    short = [r[:7] for r in rows]
    with open(os.path.join(d, "report.md"), "w", encoding="utf-8") as f:
        f.write("# FlowForge week-1 pilot (shadow mode)\n\n")
        for k in ("started", "binary", "git", "host"):
            if k in meta:
                f.write(f"- {k}: `{meta[k]}`\n")
        if settings:
            f.write("- thresholds: `" + " ".join(f"{k} {v}" for k, v in settings) + "`\n")
        f.write("\nEvery profile ran under `flowforge run --shadow-mode`: FlowForge never acted. *terminated* means "
                "it decided to kill or restart the worker (a `policy.decision` of would_restart/would_kill/"
                "restart/kill); an enforce run would have done it. Latency is seconds from the first sample "
                "to that decision. Confidence is the incident's; for a profile that was not terminated it is "
                "the highest any sample reached (0: no rule ever held).\n\n")
        f.write(markdown_table(header[:7], short) + "\n\n")
        notes = [(row[0], row[7]) for row in rows if row[7]]
        if notes:
            f.write("Reasons and notes:\n\n")
            for name, note in notes:
                f.write(f"- **{name}**: {note}\n")
            f.write("\n")
        f.write(verdict + "\n")

    print(text_table(header[:7], short))
    print()
    print(verdict)
    return 0


# ------------------------------------------------------------------------------------------------ labels

def load_labels(d):
    """{recording basename: label}; raises ValueError with a readable message."""
    path = os.path.join(d, "labels.tsv")
    if not os.path.isfile(path):
        raise ValueError(f"{path} not found: a recordings dir needs labels.tsv "
                         "(lines 'RECORDING<TAB>runaway|healthy'; week1_pilot.sh writes one)")
    present = {n for n in os.listdir(d) if n.endswith(".jsonl")}
    stems = {n[:-len(".jsonl")]: n for n in present}
    labels = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 2:
                raise ValueError(f"{path}:{lineno}: expected 'RECORDING<TAB>LABEL', got {line!r}")
            name, label = cols[0].strip(), cols[1].strip().lower()
            if name == "recording" and label == "label":
                continue
            if label not in LABELS:
                raise ValueError(f"{path}:{lineno}: label must be runaway or healthy, got {cols[1]!r}")
            base = os.path.basename(name)
            stem = base
            for ext in (".jsonl", ".py"):
                if stem.endswith(ext):
                    stem = stem[:-len(ext)]
            rec = stems.get(stem)
            if rec is None:
                print(f"tune_report: warning: {path}:{lineno}: no recording {stem}.jsonl in {d}", file=sys.stderr)
                continue
            labels[rec] = label
    for name in sorted(present - set(labels)):
        print(f"tune_report: warning: {name} has no label in {path}; left out", file=sys.stderr)
    if not labels:
        raise ValueError(f"no labelled recordings (*.jsonl named in labels.tsv) in {d}")
    return labels


def cmd_labels(args):
    try:
        labels = load_labels(args.dir)
    except ValueError as e:
        print(f"tune_report: {e}", file=sys.stderr)
        return 2
    for name in sorted(labels):
        print(os.path.join(args.dir, name))
    return 0


# -------------------------------------------------------------------------------------------------- tune

def read_sweep(index_path, labels):
    """[{max_cpu, min_conf, per: {recording: {...}}}] from the sweep index (max_cpu, min_conf, output path)."""
    settings = []
    with open(index_path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            max_cpu, min_conf, path = line.rstrip("\n").split("\t")
            per = {}
            with open(path, encoding="utf-8") as out:
                for lineno, raw in enumerate(out, 1):
                    raw = raw.strip()
                    if not raw.startswith("{"):
                        continue
                    try:
                        r = json.loads(raw)
                    except ValueError as e:
                        raise ValueError(f"replay output {path}:{lineno} is not JSON ({e}): {raw[:120]}")
                    name = os.path.basename(str(r.get("file", "")))
                    if name not in labels:
                        continue
                    entry = per.setdefault(name, {"detected": False, "latency": None, "confidence": None,
                                                  "reason": "", "peak_cpu": None, "samples": 0})
                    entry["samples"] += int(num(r.get("samples"), 0))
                    peak = num(r.get("peak_cpu_percent"))
                    if peak is not None:
                        entry["peak_cpu"] = peak if entry["peak_cpu"] is None else max(entry["peak_cpu"], peak)
                    if r.get("detected") is True and not entry["detected"]:
                        entry["detected"] = True
                        entry["latency"] = num(r.get("latency_seconds"))
                        entry["confidence"] = num(r.get("confidence"))
                        entry["reason"] = str(r.get("reason") or "")
                    elif not entry["detected"]:
                        c = num(r.get("confidence"))
                        if c is not None:
                            entry["confidence"] = c if entry["confidence"] is None else max(entry["confidence"], c)
                        if r.get("reason"):
                            entry["reason"] = str(r["reason"])
            missing = sorted(set(labels) - set(per))
            if missing:
                raise ValueError(f"replay (--max-cpu {max_cpu} --min-confidence {min_conf}) printed nothing for: "
                                 + ", ".join(missing))
            settings.append({"max_cpu": float(max_cpu), "min_conf": float(min_conf), "per": per})
    return settings


def score(setting, labels):
    runaways = [n for n, l in labels.items() if l == "runaway"]
    healthy = [n for n, l in labels.items() if l == "healthy"]
    per = setting["per"]
    caught = [n for n in runaways if per[n]["detected"]]
    flagged = [n for n in healthy if per[n]["detected"]]
    lats = [per[n]["latency"] for n in caught if per[n]["latency"] is not None]
    setting.update({
        "caught": len(caught), "runaways": len(runaways), "flagged": len(flagged), "healthy": len(healthy),
        "missed_names": sorted(set(runaways) - set(caught)), "flagged_names": sorted(flagged),
        "median_latency": statistics.median(lats) if lats else None,
        "misses": len(runaways) - len(caught),
    })
    setting["perfect"] = setting["misses"] == 0 and setting["flagged"] == 0
    # False positives (killing a healthy worker) weigh twice as much as misses.
    setting["cost"] = setting["misses"] + 2 * setting["flagged"]
    return setting


def recommend(settings):
    perfect = [s for s in settings if s["perfect"]]
    if perfect:
        best = max(perfect, key=lambda s: (s["min_conf"], s["max_cpu"]))
        return best, True
    best = min(settings, key=lambda s: (s["cost"], s["flagged"], -s["min_conf"], -s["max_cpu"]))
    return best, False


def g(x):
    return f"{x:g}"


def stem(name):
    return name[:-len(".jsonl")] if name.endswith(".jsonl") else name


def equivalence_note(settings):
    """Says which min-confidence values behaved identically at every max-cpu."""
    confs = sorted({s["min_conf"] for s in settings})
    by = {(s["max_cpu"], s["min_conf"]): s for s in settings}
    cpus = sorted({s["max_cpu"] for s in settings})

    def sig(c):
        out = []
        for m in cpus:
            s = by.get((m, c))
            if s is None:
                return None
            out.append(tuple(sorted((n, e["detected"]) for n, e in s["per"].items())))
        return tuple(out)

    groups = []
    for c in confs:
        sc = sig(c)
        if sc is not None and groups and groups[-1][1] == sc:
            groups[-1][0].append(c)
        else:
            groups.append(([c], sc))
    same = [grp for grp, _ in groups if len(grp) > 1]
    if not same:
        return ""
    parts = [", ".join(g(c) for c in grp) for grp in same]
    text = ("min-confidence " + "; ".join(parts) + " detected exactly the same recordings at every max-cpu")
    if any(len([c for c in grp if c <= 0.75]) > 1 for grp in same):
        text += (" (once any rule holds the detector's confidence is at least 0.75, so every min-confidence "
                 "at or below 0.75 behaves the same)")
    return text + "."


def heatmap_svg(settings, best):
    cpus = sorted({s["max_cpu"] for s in settings})
    confs = sorted({s["min_conf"] for s in settings}, reverse=True)
    by = {(s["max_cpu"], s["min_conf"]): s for s in settings}
    cw, ch, left, top = 92, 46, 120, 40
    width = max(left + cw * len(cpus) + 20, left + 4 * 150)
    height = top + ch * len(confs) + 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="errors per setting" '
           'font-family="sans-serif" font-size="12">']
    out.append(f'<text x="{left}" y="22" font-size="13" font-weight="bold">Runaways caught / healthy flagged '
               'per setting</text>')
    for j, c in enumerate(confs):
        y = top + j * ch
        out.append(f'<text x="{left - 8}" y="{y + ch / 2 + 4}" text-anchor="end">{g(c)}</text>')
        for i, m in enumerate(cpus):
            x = left + i * cw
            s = by.get((m, c))
            if s is None:
                out.append(f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="#eee"/>')
                continue
            if s["perfect"]:
                fill = "#2e9d52"
            elif s["flagged"] == 0:
                fill = ["#f2c94c", "#f2994a", "#eb7a3a"][min(2, s["misses"] - 1)]
            else:
                fill = ["#ec8a8a", "#d64545", "#a61b1b"][min(2, s["flagged"] - 1)]
            title = (f"max-cpu {g(m)}, min-confidence {g(c)}: caught {s['caught']}/{s['runaways']}, "
                     f"flagged {s['flagged']}/{s['healthy']}")
            out.append(f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="{fill}">'
                       f'<title>{html.escape(title)}</title></rect>')
            out.append(f'<text x="{x + cw / 2 - 1}" y="{y + 19}" text-anchor="middle" fill="#fff" '
                       f'font-weight="bold">{s["caught"]}/{s["runaways"]} caught</text>')
            out.append(f'<text x="{x + cw / 2 - 1}" y="{y + 35}" text-anchor="middle" fill="#fff">'
                       f'{s["flagged"]}/{s["healthy"]} flagged</text>')
            if s is best:
                out.append(f'<rect x="{x - 1}" y="{y - 1}" width="{cw}" height="{ch}" fill="none" '
                           'stroke="#111" stroke-width="3"/>')
    for i, m in enumerate(cpus):
        x = left + i * cw + cw / 2
        out.append(f'<text x="{x}" y="{top + ch * len(confs) + 16}" text-anchor="middle">{g(m)}</text>')
    out.append(f'<text x="{left + cw * len(cpus) / 2}" y="{top + ch * len(confs) + 36}" '
               'text-anchor="middle" font-weight="bold">--max-cpu (% of one core)</text>')
    out.append(f'<text x="14" y="{top + ch * len(confs) / 2}" transform="rotate(-90 14 '
               f'{top + ch * len(confs) / 2})" text-anchor="middle" font-weight="bold">--min-confidence</text>')
    ly = top + ch * len(confs) + 50
    for k, (fill, text) in enumerate([("#2e9d52", "perfect"), ("#f2c94c", "misses only (darker: more)"),
                                      ("#d64545", "flags healthy (darker: more)"), ("#fff", "recommended")]):
        x = left + k * 150
        stroke = ' stroke="#111" stroke-width="3"' if text == "recommended" else ""
        out.append(f'<rect x="{x}" y="{ly}" width="14" height="14" fill="{fill}"{stroke}/>'
                   f'<text x="{x + 20}" y="{ly + 11}">{text}</text>')
    out.append("</svg>")
    return "\n".join(out)


def lines_svg(settings, conf):
    pts = sorted((s for s in settings if s["min_conf"] == conf), key=lambda s: s["max_cpu"])
    if len(pts) < 2:
        return ""
    w, h, left, top, bottom = 620, 240, 50, 30, 50
    pw, ph = w - left - 160, h - top - bottom
    lo, hi = pts[0]["max_cpu"], pts[-1]["max_cpu"]

    def x(m):
        return left + (m - lo) / (hi - lo) * pw if hi > lo else left + pw / 2

    def y(frac):
        return top + (1 - frac) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
           'font-family="sans-serif" font-size="12" role="img" aria-label="caught and flagged per max-cpu">',
           f'<text x="{left}" y="18" font-size="13" font-weight="bold">Share caught / flagged at '
           f'--min-confidence {g(conf)}</text>',
           f'<line x1="{left}" y1="{y(0)}" x2="{left + pw}" y2="{y(0)}" stroke="#999"/>',
           f'<line x1="{left}" y1="{y(0)}" x2="{left}" y2="{y(1)}" stroke="#999"/>']
    for frac in (0, 0.5, 1):
        out.append(f'<text x="{left - 6}" y="{y(frac) + 4}" text-anchor="end">{int(frac * 100)}%</text>')
    for s in pts:
        out.append(f'<text x="{x(s["max_cpu"])}" y="{y(0) + 16}" text-anchor="middle">{g(s["max_cpu"])}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 8}" text-anchor="middle">--max-cpu</text>')
    for key, total, color, name in (("caught", "runaways", "#2e9d52", "runaways caught"),
                                    ("flagged", "healthy", "#d64545", "healthy flagged")):
        coords = [(x(s["max_cpu"]), y(s[key] / s[total] if s[total] else 0)) for s in pts]
        out.append('<polyline fill="none" stroke="%s" stroke-width="2.5" points="%s"/>'
                   % (color, " ".join(f"{a:.1f},{b:.1f}" for a, b in coords)))
        for a, b in coords:
            out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{color}"/>')
        ly = top + 20 if key == "caught" else top + 40
        out.append(f'<rect x="{left + pw + 20}" y="{ly - 6}" width="14" height="4" fill="{color}"/>'
                   f'<text x="{left + pw + 40}" y="{ly}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out)


def cmd_tune(args):
    try:
        labels = load_labels(args.recordings)
        settings = [score(s, labels) for s in read_sweep(args.index, labels)]
    except (ValueError, OSError) as e:
        print(f"tune_report: {e}", file=sys.stderr)
        return 2
    if not settings:
        print("tune_report: the sweep produced no settings", file=sys.stderr)
        return 2
    settings.sort(key=lambda s: (s["max_cpu"], s["min_conf"]))
    best, perfect = recommend(settings)
    n_run = best["runaways"]
    n_ok = best["healthy"]

    header = ["max-cpu", "min-conf", "caught", "flagged", "median latency s", "missed", "flagged healthy"]
    rows = []
    for s in settings:
        rows.append([g(s["max_cpu"]), g(s["min_conf"]), f"{s['caught']}/{s['runaways']}",
                     f"{s['flagged']}/{s['healthy']}", fmt(s["median_latency"]),
                     ",".join(stem(n) for n in s["missed_names"]) or "-",
                     ",".join(stem(n) for n in s["flagged_names"]) or "-"])
    fixed = args.fixed.strip()
    flags = f"--max-cpu {g(best['max_cpu'])} --min-confidence {g(best['min_conf'])}"
    if perfect:
        rec = (f"Recommended: {flags} — terminates all {n_run} runaways and no healthy recording "
               f"(median latency {fmt(best['median_latency'])} s).")
        n_perfect = sum(1 for s in settings if s["perfect"])
        if n_perfect > 1:
            rec += (f" {n_perfect} settings are perfect; this is the most conservative "
                    "(highest min-confidence, then highest max-cpu).")
    else:
        rec = (f"No setting terminates every runaway without flagging a healthy recording. "
               f"Fewest errors (false positives weighted twice): {flags} — caught {best['caught']}/{n_run}"
               + (f" (missed: {', '.join(map(stem, best['missed_names']))})" if best["missed_names"] else "")
               + f", flagged {best['flagged']}/{n_ok}"
               + (f" ({', '.join(map(stem, best['flagged_names']))})" if best["flagged_names"] else "") + ".")
    note = equivalence_note(settings)
    same = sorted(s["max_cpu"] for s in settings if s["min_conf"] == best["min_conf"]
                  and s["missed_names"] == best["missed_names"] and s["flagged_names"] == best["flagged_names"])
    if len(same) > 1:
        rec += (f" At --min-confidence {g(best['min_conf'])} the same recordings are caught and flagged for --max-cpu "
                + ", ".join(g(m) for m in same) + "; the highest leaves the least headroom for a runaway whose CPU "
                "dips (one sample under --max-cpu restarts the sustain clock), a middle value keeps a margin both ways.")

    print(text_table(header, rows))
    print()
    if fixed:
        print(f"Held fixed during the sweep: {fixed}")
    if note:
        print("Note: " + note)
    print(rec)
    hint = (f"Try it in shadow mode first: flowforge run --shadow-mode {flags}"
            + (f" {fixed}" if fixed.startswith("--") else "") + " -- YOUR WORKER")
    if "--sustain" in fixed or "--silence" in fixed:
        hint += ("  (the recordings' --sustain/--silence were held fixed; a pilot's shortened windows are for "
                 "short profiles, keep your production values)")
    print(hint)

    detail_header = ["recording", "label", "detected", "latency s", "peak cpu %", "confidence", "result", "reason"]
    detail = []
    for name in sorted(labels, key=lambda n: (labels[n], n)):
        e = best["per"][name]
        detail.append([stem(name), labels[name], "yes" if e["detected"] else "no", fmt(e["latency"]),
                       fmt(e["peak_cpu"]), fmt(e["confidence"], 3), correctness(labels[name], e["detected"]),
                       e["reason"]])

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({
                "recordings": os.path.abspath(args.recordings), "fixed": fixed, "perfect": perfect,
                "recommended": {k: best[k] for k in ("max_cpu", "min_conf", "caught", "runaways", "flagged",
                                                     "healthy", "median_latency", "missed_names",
                                                     "flagged_names")},
                "settings": [{k: s[k] for k in ("max_cpu", "min_conf", "caught", "runaways", "flagged", "healthy",
                                                "median_latency", "missed_names", "flagged_names", "perfect")}
                             for s in settings],
            }, f, indent=1)
            f.write("\n")

    esc = html.escape
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    doc = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>FlowForge detection tuning</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
        "font-size:13px;text-align:left}th{background:#f3f3f3}tr.perfect td{background:#e6f4ea}"
        "tr.best td{font-weight:bold;outline:2px solid #111}td.bad{color:#b00020;font-weight:bold}"
        ".rec{padding:.8em 1em;border-left:5px solid #2e9d52;background:#f4faf6}"
        ".rec.imperfect{border-color:#d64545;background:#fdf3f3}code{background:#f3f3f3;padding:1px 3px}"
        ".charts{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}</style></head><body>",
        "<h1>FlowForge detection tuning</h1>",
        f"<p>Recordings: <code>{esc(os.path.abspath(args.recordings))}</code> ({n_run} runaway, {n_ok} healthy). "
        f"Replayed with <code>flowforge replay</code> for every <code>--max-cpu</code> &#215; "
        f"<code>--min-confidence</code>. Generated {esc(now)}.</p>",
    ]
    if fixed:
        doc.append(f"<p>Held fixed: <code>{esc(fixed)}</code></p>")
    doc.append(f'<p class="rec{"" if perfect else " imperfect"}">{esc(rec)}</p>')
    doc.append(f"<p>{esc(hint)}</p>")
    if note:
        doc.append(f"<p><em>{esc(note)}</em></p>")
    doc.append('<div class="charts">' + heatmap_svg(settings, best) + lines_svg(settings, best["min_conf"])
               + "</div>")
    doc.append("<h2>All settings</h2><table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
    for s, r in zip(settings, rows):
        cls = "best" if s is best else ("perfect" if s["perfect"] else "")
        cells = []
        for i, c in enumerate(r):
            bad = (i == 2 and s["misses"]) or (i == 3 and s["flagged"])
            cells.append(f'<td{" class=bad" if bad else ""}>{esc(c)}</td>')
        doc.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    doc.append("</table>")
    doc.append(f"<h2>Recordings at the recommended setting ({esc(flags)})</h2><table><tr>"
               + "".join(f"<th>{esc(h)}</th>" for h in detail_header) + "</tr>")
    for r in detail:
        doc.append("<tr>" + "".join(
            f'<td{" class=bad" if i == 6 and r[6] in ("MISSED", "FALSE POSITIVE") else ""}>{esc(c)}</td>'
            for i, c in enumerate(r)) + "</tr>")
    doc.append("</table><p>Latency: seconds from a recording's first sample to the detection, as reported by "
               "<code>flowforge replay</code>. False positives count twice when no setting is perfect.</p>")
    doc.append("</body></html>")
    with open(args.html, "w", encoding="utf-8") as f:
        f.write("\n".join(doc) + "\n")
    return 0


def main(argv):
    p = argparse.ArgumentParser(prog="tune_report.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summarize")
    s.add_argument("file")
    s = sub.add_parser("pilot")
    s.add_argument("dir")
    s = sub.add_parser("labels")
    s.add_argument("dir")
    s = sub.add_parser("tune")
    s.add_argument("--recordings", required=True)
    s.add_argument("--index", required=True)
    s.add_argument("--html", required=True)
    s.add_argument("--json")
    s.add_argument("--fixed", default="")
    args = p.parse_args(argv)
    return {"summarize": cmd_summarize, "pilot": cmd_pilot, "labels": cmd_labels, "tune": cmd_tune}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
