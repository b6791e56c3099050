#!/usr/bin/env bash
# FlowForge: the alerting path end to end. Checks and unit-tests the Prometheus rules, then starts three
# FlowForge dashboards (three "hosts", each its own state directory), a real Prometheus and Alertmanager and a
# webhook receiver, all on loopback; provokes a runaway on one host and asserts that the alert reaches the
# webhook with that host, the program's name and the incident id from the run's spool.
# Run by scripts/test.sh; it installs and builds nothing (Debian: prometheus prometheus-alertmanager).
set -euo pipefail
unset PYTHONUNBUFFERED

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rules_dir="$repo/config/prometheus"
name=$(basename "$0")

usage() {
  cat <<EOF
Usage: $name [--bin PATH] [--timeout SECONDS] [--keep-tmp] [--help]

  1. promtool check rules + promtool test rules on config/prometheus/flowforge-rules{,.test}.yml;
     promtool check config on the example prometheus.yml, amtool check-config on the example alertmanager.yml
  2. starts, on 127.0.0.1 and free ports from the kernel, each with its own temp state/storage:
     three 'flowforge dashboard' (hosts host-a, host-b, host-c: Prometheus labels each target's instance
     with its host name), Prometheus (1 s scrape and evaluation, the shipped rules), Alertmanager (no
     clustering, 1 s grouping) and a python3 webhook receiver writing each notification to a file
  3. runs 'flowforge run --name crawler:2 --on-runaway kill -- <a CPU-burning loop printing one line>' with
     host-b's state directory, and reads the incident id from the run's spool
  4. waits (bounded) until the webhook receives FlowForgeRunawayIncident firing with instance=host-b,
     name=crawler:2 and that incident_id; checks that no other host alerted
Prints PASS/FAIL per check; exits non-zero on any failure (2: a tool is missing). Stops every process it
started (by pid) and removes its temp dir. Takes about 15-30 s; bounded at about 3 minutes with the default
timeout (40 s for the stack to start, 30 s for the first scrapes, then the runaway and the alert).

Options:
  --bin PATH         flowforge binary (default: \$FLOWFORGE, else $repo/.build/debug/flowforge)
  --timeout SECONDS  how long to wait for the runaway and for its alert, each (default 60)
  --keep-tmp         keep the temp dir (configs, logs, received alerts) and print its path
  -h, --help         show this help

Environment:
  FLOWFORGE_MAX_CPU  the run's --max-cpu (default 50: a busy shared machine may give the loop part of a core)
EOF
}

bin="${FLOWFORGE:-$repo/.build/debug/flowforge}"
timeout_s=60
keep_tmp=0
while (($#)); do
  case "$1" in
    --bin) bin="${2:?--bin needs a path}"; shift 2 ;;
    --timeout) timeout_s="${2:?--timeout needs seconds}"; shift 2 ;;
    --keep-tmp) keep_tmp=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$name: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $timeout_s =~ ^[0-9]+$ ]] || { echo "$name: --timeout must be whole seconds" >&2; exit 2; }
[[ -x "$bin" ]] || { echo "$name: $bin is not executable (swift build first)" >&2; exit 2; }
alertmanager=$(command -v prometheus-alertmanager || command -v alertmanager || true)
for tool in promtool prometheus amtool python3 curl; do
  command -v "$tool" >/dev/null || alertmanager=""
done
if [[ -z $alertmanager ]]; then
  echo "$name: needs promtool, prometheus, prometheus-alertmanager (or alertmanager), amtool, python3 and curl" >&2
  echo "  Debian: apt-get install -y prometheus prometheus-alertmanager curl python3" >&2
  exit 2
fi

passed=0
failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
check() { # check DESCRIPTION COMMAND...: PASS/FAIL on the command's status, its output indented on failure
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc"; tail -n 40 <<<"$out" | sed 's/^/    /'; fi
}

# ---- 1. the rules, offline ------------------------------------------------------------------------------
echo "==> rules (promtool)"
check "promtool check rules flowforge-rules.yml" promtool check rules "$rules_dir/flowforge-rules.yml"
check "promtool test rules flowforge-rules.test.yml" promtool test rules "$rules_dir/flowforge-rules.test.yml"
check "promtool check config prometheus.yml (the example)" promtool check config "$rules_dir/prometheus.yml"
check "amtool check-config alertmanager.yml (the example)" amtool check-config "$rules_dir/alertmanager.yml"

# ---- 2. the stack, on loopback --------------------------------------------------------------------------
rules_failed=$failed # the live check still runs after a rules failure: it says whether alerts get through
tmp=$(mktemp -d)
pids=() # every process this script started, stopped in reverse order
run_pid=""
cleanup() {
  local i pid
  [[ -n $run_pid ]] && pids+=("$run_pid")
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((keep_tmp)); then echo "kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports from the kernel, all bound at once so they differ, then released for the servers to take.
read -r port_a port_b port_c port_prom port_am port_hook < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks: s.close()')

# wait_http URL DEADLINE: until URL answers 2xx or $SECONDS reaches DEADLINE.
wait_http() {
  while ((SECONDS < $2)); do
    curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

echo "==> webhook receiver, three dashboards, Alertmanager, Prometheus"
cat >"$tmp/receiver.py" <<'PY'
# Writes each POSTed body (Alertmanager's webhook JSON) as one line of the output file.
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
PY
: >"$tmp/alerts.jsonl"
python3 "$tmp/receiver.py" "$port_hook" "$tmp/alerts.jsonl" >"$tmp/receiver.log" 2>&1 &
pids+=($!)

declare -A host_port=([host-a]=$port_a [host-b]=$port_b [host-c]=$port_c)
for host in host-a host-b host-c; do
  mkdir -m 0700 "$tmp/$host"
  FLOWFORGE_STATE_DIR="$tmp/$host" "$bin" dashboard --listen "127.0.0.1:${host_port[$host]}" >"$tmp/$host.log" 2>&1 &
  pids+=($!)
done

cat >"$tmp/alertmanager.yml" <<EOF
route:
  receiver: webhook
  group_by: [alertname, instance, name]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: "http://127.0.0.1:$port_hook/alerts"
        send_resolved: true
EOF
mkdir "$tmp/am"
"$alertmanager" --config.file="$tmp/alertmanager.yml" --storage.path="$tmp/am" \
  --web.listen-address="127.0.0.1:$port_am" --cluster.listen-address= >"$tmp/alertmanager.log" 2>&1 &
pids+=($!)

# The shipped rules, with this run's targets; each target's instance is its host name, as a real
# deployment's would be (host-a:8080 ...), so the alert's host is checked, not a port number.
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $rules_dir/flowforge-rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:$port_am"]
scrape_configs:
  - job_name: flowforge
    static_configs:
      - targets: ["127.0.0.1:$port_a"]
        labels: {instance: host-a}
      - targets: ["127.0.0.1:$port_b"]
        labels: {instance: host-b}
      - targets: ["127.0.0.1:$port_c"]
        labels: {instance: host-c}
EOF
mkdir "$tmp/prom"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prom" \
  --web.listen-address="127.0.0.1:$port_prom" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)

# One deadline for the whole stack to come up, so a hung start costs 40 s, not 40 s per process.
stack_deadline=$((SECONDS + 40))
up=1
for host in host-a host-b host-c; do
  wait_http "http://127.0.0.1:${host_port[$host]}/healthz" "$stack_deadline" || { up=0; fail "dashboard $host did not answer"; tail -n 5 "$tmp/$host.log"; }
done
((up)) && pass "three dashboards serving on 127.0.0.1:$port_a, :$port_b, :$port_c"
if wait_http "http://127.0.0.1:$port_hook/" "$stack_deadline"; then pass "webhook receiver on 127.0.0.1:$port_hook"; else fail "webhook receiver"; fi
if wait_http "http://127.0.0.1:$port_am/-/ready" "$stack_deadline"; then pass "Alertmanager ready on 127.0.0.1:$port_am"; else
  fail "Alertmanager not ready"; tail -n 10 "$tmp/alertmanager.log"; fi
if wait_http "http://127.0.0.1:$port_prom/-/ready" "$stack_deadline"; then pass "Prometheus ready on 127.0.0.1:$port_prom"; else
  fail "Prometheus not ready"; tail -n 10 "$tmp/prometheus.log"; fi
if ((failed > rules_failed)); then echo "$name: the stack did not start; not going on" >&2; exit 1; fi

# prom_query EXPR: the query's result vector, one "labels value" line per series.
prom_query() {
  curl -fsS --max-time 3 "http://127.0.0.1:$port_prom/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    python3 -c 'import json, sys
for r in json.load(sys.stdin)["data"]["result"]: print(json.dumps(r["metric"], sort_keys=True), r["value"][1])' || true
}
deadline=$((SECONDS + 30))
until [[ $(prom_query 'sum(up{job="flowforge"})' | awk '{print $NF}') == 3 ]] || ((SECONDS >= deadline)); do sleep 0.5; done
targets=$(prom_query 'up{job="flowforge"} == 1')
if [[ $(grep -c . <<<"$targets") == 3 ]]; then pass "Prometheus scrapes all three dashboards (up == 1)"; else
  fail "Prometheus does not scrape all three: $(prom_query 'up')"; fi

# ---- 3. a runaway on host-b -----------------------------------------------------------------------------
echo "==> a runaway on host-b"
started=$SECONDS
FLOWFORGE_STATE_DIR="$tmp/host-b" "$bin" run --name crawler:2 --on-runaway kill --max-cpu "${FLOWFORGE_MAX_CPU:-50}" \
  --sustain 2 --sample-interval 0.25 --grace 1 --log-level warn -- \
  sh -c "while :; do echo 'step 3: retrying tool call search(query=TODO)'; i=0; while [ \$i -lt 3000 ]; do i=\$((i+1)); done; done" \
  >/dev/null 2>"$tmp/run.err" &
run_pid=$!
incident=""
run_id=""
deadline=$((SECONDS + timeout_s))
while ((SECONDS < deadline)) && [[ -z $incident ]]; do
  read -r run_id incident < <(cat "$tmp/host-b/runs/"*.jsonl 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("kind") == "incident.opened": print(e["run_id"], e["incident_id"]); break
else: print("")') || true
  [[ -n $incident ]] || sleep 0.5
done
if [[ -n $incident ]]; then pass "run $run_id on host-b opened incident $incident after $((SECONDS - started)) s"; else
  fail "no runaway incident on host-b within ${timeout_s}s (a runaway needs ${FLOWFORGE_MAX_CPU:-50}% CPU for 2 s; is the machine busy?)"
  grep -a '^flowforge' "$tmp/run.err" | tail -n 5 | sed 's/^/    /' || true
  exit 1
fi

# ---- 4. the alert at the webhook ------------------------------------------------------------------------
# find_alert: the first firing alert of ALERTNAME with the given labels, printed as its labels; status 1 if none.
find_alert() {
  python3 - "$tmp/alerts.jsonl" "$@" <<'PY'
import json, sys
path, alertname, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
for line in open(path):
    try: notification = json.loads(line)
    except ValueError: continue
    for alert in notification.get("alerts", []):
        labels = alert.get("labels", {})
        if alert.get("status") == "firing" and labels.get("alertname") == alertname and all(labels.get(k) == v for k, v in want.items()):
            print(json.dumps(labels, sort_keys=True), "|", alert.get("annotations", {}).get("summary", ""))
            sys.exit(0)
sys.exit(1)
PY
}
got=""
deadline=$((SECONDS + timeout_s))
until got=$(find_alert FlowForgeRunawayIncident instance=host-b name=crawler:2 "incident_id=$incident") || ((SECONDS >= deadline)); do
  sleep 0.5
done
if [[ -n $got ]]; then
  pass "webhook got FlowForgeRunawayIncident for host-b, crawler:2, $incident, $((SECONDS - started)) s after the run started"
  echo "    $got"
else
  fail "no FlowForgeRunawayIncident (instance=host-b, name=crawler:2, incident_id=$incident) at the webhook within ${timeout_s}s"
  echo "    Prometheus alerts: $(curl -fsS --max-time 3 "http://127.0.0.1:$port_prom/api/v1/alerts" 2>/dev/null | head -c 600)"
  echo "    host-b's last-incident series: $(prom_query flowforge_incident_last_timestamp_seconds)"
  echo "    received: $(head -c 600 "$tmp/alerts.jsonl")"
fi
for host in host-a host-c; do
  if others=$(find_alert FlowForgeRunawayIncident "instance=$host"); then fail "$host alerted without a runaway: $others"; else
    pass "no runaway alert from $host"; fi
done

echo "$name: $passed passed, $failed failed ($SECONDS s)"
((failed == 0))
