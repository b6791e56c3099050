#!/usr/bin/env python3
"""Assertions of scripts/browser_check.sh on what headless Chromium rendered and requested.

Subcommands (each prints PASS:/FAIL: lines and exits 1 when any assertion failed):
  dom FILE --incident ID [--run RUN_ID] [--expect-selected ID] [--evidence TEXT]
      the DOM that `chromium --dump-dom` printed
  network NETLOG CONSOLE_LOG --origin http://127.0.0.1:PORT
      Chromium's --log-net-log JSON and its --enable-logging=stderr output
  assets DIR
      the three dashboard files as the server served them (static scan for external references)
  png FILE --width W --height H
      the screenshot
Standard library only.
"""
import argparse
import json
import re
import shutil
import struct
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
failures = 0


def check(ok, what, detail=""):
    global failures
    print(f"{'PASS' if ok else 'FAIL'}: {what}{'' if ok or not detail else f' ({detail})'}")
    if not ok:
        failures += 1
    return ok


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def walk(self):
        for child in self.children:
            yield child
            yield from child.walk()

    def find_all(self, pred):
        return [n for n in self.walk() if pred(n)]

    def all_text(self):
        return "".join(self.text) + "".join(c.all_text() for c in self.children)


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text.append(data)


def by_id(root, ident):
    found = root.find_all(lambda n: n.attrs.get("id") == ident)
    return found[0] if found else None


def cmd_dom(args):
    builder = TreeBuilder()
    with open(args.file, encoding="utf-8", errors="replace") as f:
        builder.feed(f.read())
    root = builder.root
    label = args.label

    timeline = by_id(root, "timeline")
    incidents = timeline.find_all(lambda n: "incident" in n.classes) if timeline else []
    ids = [n.attrs.get("data-incident-id") for n in incidents]
    check(timeline is not None, f"{label}: #timeline is rendered")
    check(bool(incidents) and all(ids), f"{label}: #timeline has {len(incidents)} .incident item(s), each with data-incident-id")
    check(args.incident in ids, f"{label}: #timeline lists incident {args.incident}", f"listed: {ids}")
    item = next((n for n in incidents if n.attrs.get("data-incident-id") == args.incident), None)
    if item is not None and args.shadow:
        shadow = item.find_all(lambda n: "shadow" in n.classes)
        check(bool(shadow) and "would" in shadow[0].all_text(), f"{label}: the incident's shadow action is marked as shadow",
              item.all_text()[:200])

    drill = by_id(root, "drilldown")
    check(drill is not None, f"{label}: #drilldown is rendered")
    if drill is None:
        return
    want = args.expect_selected or (ids[0] if ids else None)
    got = drill.attrs.get("data-incident-id")
    check(want is not None and got == want, f"{label}: #drilldown shows incident {want}", f"shows {got}")
    selected = [n.attrs.get("data-incident-id") for n in incidents if "selected" in n.classes]
    check(selected == [want], f"{label}: exactly that incident is selected in #timeline", f"selected: {selected}")
    events = drill.find_all(lambda n: "event" in n.classes)
    kinds = [n.attrs.get("data-kind") for n in events]
    check(len(events) >= 2, f"{label}: #drilldown has {len(events)} .event row(s)")
    for kind in ("incident.opened", "policy.decision"):
        check(kind in kinds, f"{label}: the event chain includes {kind}", f"kinds: {kinds}")
    for chart in ("chart-cpu", "chart-entropy", "chart-confidence", "chart-memory"):
        node = by_id(drill, chart)
        lines = [n for n in node.find_all(lambda n: n.tag in ("polyline", "path"))] if node else []
        drawn = [n for n in lines if len((n.attrs.get("points") or n.attrs.get("d") or "").split()) >= 2]
        check(node is not None and node.tag == "svg", f"{label}: #{chart} is an inline <svg> in #drilldown")
        check(bool(drawn), f"{label}: #{chart} draws a polyline/path with at least two points")
    pres = drill.find_all(lambda n: n.tag == "pre")
    if args.evidence:
        check(any(args.evidence in p.all_text() for p in pres), f"{label}: the evidence <pre> shows the worker's repeated line")
    check(any(re.search(r"\bppid=", p.all_text()) for p in pres), f"{label}: the evidence <pre> shows the process tree")

    runs = by_id(root, "live-runs")
    check(runs is not None, f"{label}: #live-runs is rendered")
    if runs is not None and args.run:
        row = next((n for n in runs.find_all(lambda n: "run" in n.classes) if n.attrs.get("data-run-id") == args.run), None)
        buttons = sorted(b.all_text().strip() for b in row.find_all(lambda n: n.tag == "button")) if row else []
        check(row is not None, f"{label}: #live-runs lists the live run {args.run}")
        check(buttons == ["Kill", "Restart"], f"{label}: the run has Kill and Restart <button>s", f"buttons: {buttons}")
        badge = next(iter(row.find_all(lambda n: "degraded" in n.classes)), None) if row else None
        check(badge is not None and "hidden" in badge.attrs, f"{label}: the healthy run's degraded badge is hidden")
        if shutil.which("systemd-notify"):
            said = next(iter(row.find_all(lambda n: "notify-status" in n.classes)), None) if row else None
            check(said is not None and "hidden" not in said.attrs and "spinning on purpose" in said.all_text(),
                  f"{label}: the run shows the worker's sd_notify STATUS=", f"got: {said.all_text() if said else None}")
    if args.program:
        # The programs panel: the run under its program's name, live, with its incidents counted.
        programs = by_id(root, "programs")
        block = next((n for n in programs.find_all(lambda n: n.attrs.get("data-program") == args.program)), None) if programs else None
        check(block is not None, f"{label}: #programs lists program {args.program}",
              f"listed: {[n.attrs.get('data-program') for n in programs.find_all(lambda n: 'program' in n.classes)] if programs else None}")
        row = next((n for n in block.find_all(lambda n: n.attrs.get("data-run-id") == args.run)), None) if block and args.run else None
        check(row is not None and "is-live" in row.classes, f"{label}: program {args.program} shows run {args.run} as live")
        names = [n.all_text().strip() for n in incidents for n in n.find_all(lambda n: "worker" in n.classes)]
        check(args.program in names, f"{label}: #timeline names the incident's worker {args.program}", f"names: {names[:5]}")
    health = by_id(root, "health")
    check(health is not None and "ok" in health.classes, f"{label}: the header's status dot says the API is healthy")


def urls_from_netlog(path):
    """(initiator, url) of every URL request Chromium started, from its NetLog JSON."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = json.loads(text.rstrip().rstrip(",") + "]}")  # a log cut short at exit has no closing brackets
    types = {v: k for k, v in data.get("constants", {}).get("logEventTypes", {}).items()}
    out = []
    for e in data.get("events", []):
        p = e.get("params") or {}
        if types.get(e.get("type")) == "URL_REQUEST_START_JOB" and "url" in p:
            out.append((p.get("initiator", ""), p["url"]))
    return out


def cmd_network(args):
    origin = args.origin.rstrip("/")
    label = args.label
    requests = urls_from_netlog(args.netlog)
    # The page's own requests: the navigation to the origin, and everything the page initiated (the
    # initiator is the page's origin). Chromium's own background traffic has no origin as initiator.
    page = [(i, u) for i, u in requests if i == origin or u.startswith(origin + "/")]
    external = [u for i, u in page if not (u == origin or u.startswith(origin + "/")) and not u.startswith("data:")]
    paths = sorted({u[len(origin):].split("?")[0] for i, u in page if u.startswith(origin)})
    check(any(p == "/dashboard/dashboard.js" for p in paths) and "/timeline" in paths,
          f"{label}: the network log shows the page's own requests", f"paths: {paths}")
    polls = sum(1 for i, u in page if u.startswith(origin + "/healthz"))
    check(polls >= 2, f"{label}: the page polls the API ({polls} requests to /healthz)")
    check(not external, f"{label}: the page requested nothing outside {origin} ({len(page)} requests: {', '.join(paths)})",
          f"external: {external[:5]}")
    with open(args.console, encoding="utf-8", errors="replace") as f:
        console = [line for line in f if ":CONSOLE" in line]
    csp = [line.strip() for line in console if "Content Security Policy" in line or "Refused to" in line]
    errors = [line.strip() for line in console if "Uncaught" in line]
    check(not csp, f"{label}: no Content-Security-Policy violations (nothing external was even attempted)", "; ".join(csp[:3]))
    check(not errors, f"{label}: no uncaught JavaScript errors", "; ".join(errors[:3]))


def cmd_assets(args):
    html = open(f"{args.dir}/index.html", encoding="utf-8").read()
    css = open(f"{args.dir}/dashboard.css", encoding="utf-8").read()
    js = open(f"{args.dir}/dashboard.js", encoding="utf-8").read()
    csp = re.search(r'<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"', html, re.I)
    check(bool(csp) and "default-src 'self'" in csp.group(1), "index.html sets a Content-Security-Policy with default-src 'self'")
    refs = re.findall(r'(?:src|href|action)\s*=\s*["\']?\s*((?:[a-z][a-z0-9+.-]*:)?//[^"\'\s>]*)', html, re.I)
    refs += re.findall(r'(?:url\(\s*["\']?|@import\s+["\']?)((?:[a-z]+:)?//[^"\')\s]*)', css, re.I)
    refs += [u for u in re.findall(r'(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"\'`)]*', js, re.I) if u != "http://www.w3.org/2000/svg"]
    check(not refs, "the served HTML, CSS and JS reference no external URL", f"found: {refs[:5]}")
    # The page hides badges with the `hidden` attribute; a `display` rule on the element (.badge) beats the
    # browser's own [hidden] rule, so the stylesheet must restate it (a healthy run once showed "degraded").
    check(re.search(r"\[hidden\]\s*\{[^}]*display:\s*none\s*!important", css) is not None,
          "dashboard.css makes [hidden] win over display rules")


def cmd_png(args):
    with open(args.file, "rb") as f:
        head = f.read(24)
        size = len(head) + len(f.read())
    ok = head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24]) if ok else (0, 0)
    check(ok and size > 10_000, f"screenshot is a PNG of {size} bytes")
    check((width, height) == (args.width, args.height), f"screenshot is {args.width}x{args.height}", f"got {width}x{height}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dom")
    d.add_argument("file")
    d.add_argument("--incident", required=True)
    d.add_argument("--run")
    d.add_argument("--expect-selected")
    d.add_argument("--evidence")
    d.add_argument("--shadow", action="store_true")
    d.add_argument("--program", help="the run's name: #programs must list it with the live run")
    d.add_argument("--label", default="page")
    n = sub.add_parser("network")
    n.add_argument("netlog")
    n.add_argument("console")
    n.add_argument("--origin", required=True)
    n.add_argument("--label", default="page")
    a = sub.add_parser("assets")
    a.add_argument("dir")
    p = sub.add_parser("png")
    p.add_argument("file")
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, required=True)
    args = parser.parse_args()
    {"dom": cmd_dom, "network": cmd_network, "assets": cmd_assets, "png": cmd_png}[args.cmd](args)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
