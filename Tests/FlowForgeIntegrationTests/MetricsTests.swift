// FlowForge — the metrics alerts are built on (docs/metrics.md): counted from events, then scraped from a real
// `flowforge run --listen` and a real dashboard.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeMetrics
import FlowForgeModel
import FlowForgeTestSupport
import FlowForgeWire
import Foundation
import Testing

@Suite("Metrics for alerting", .serialized)
struct MetricsTests {
    // MARK: counted from events (in process)

    /// What an alert needs, on the dashboard: counters by program name and never by run (their series would
    /// grow with every run the dashboard ever saw), a runaway counted once with its action and rollout mode,
    /// operator actions not counted as runaways, and the restart counters at 0 from the run's start.
    @Test func dashboardCountsByProgramNotByRun() {
        let m = APIMetrics(.dashboard)
        let feed = EventFeed(run: "r1", name: "consumer:2")
        m.count(feed.next("run.started", fields: ["name": "consumer:2", "argv": "python3 c.py"]))
        var page = Exposition(m.renderDashboard(uptime: 1, live: []))
        #expect(page.value("flowforge_worker_restarts_total", ["name": "consumer:2"]) == 0)
        #expect(page.value("flowforge_restarts_suppressed_total", ["name": "consumer:2", "reason": "crash_loop"]) == 0)
        #expect(page.value("flowforge_incidents_total") == nil, "no runaway yet")

        m.count(feed.next("incident.opened", incident: "r1-1", fields: ["verdict": "cycle", "action": "restart"]))
        m.count(feed.next("policy.decision", incident: "r1-1", fields: ["decision": "restart", "mode": "enforce"]))
        m.count(feed.next("worker.started", generation: 2, fields: ["pid": "42"]))
        m.count(feed.next("policy.decision", incident: "r1-op1", fields: ["decision": "kill", "mode": "operator"]))
        // A second run of the same program adds to the same series.
        let other = EventFeed(run: "r2", name: "consumer:2")
        m.count(other.next("worker.started", generation: 2, fields: ["pid": "43"]))
        page = Exposition(m.renderDashboard(uptime: 1, live: []))
        #expect(page.value("flowforge_incidents_total", ["name": "consumer:2", "action": "restart", "rollout_mode": "enforce",
                                                         "kind": "cycle"]) == 1)
        #expect(page.series("flowforge_incidents_total").count == 1, "the operator's kill is an action, not a runaway")
        #expect(page.value("flowforge_actions_total", ["name": "consumer:2", "kind": "kill", "mode": "operator"]) == 1)
        #expect(page.value("flowforge_worker_restarts_total", ["name": "consumer:2"]) == 2)
        #expect(page.value("flowforge_restarts_total", ["name": "consumer:2"]) == 2, "the deprecated name counts the same")
        for sample in page.samples where sample.name.hasSuffix("_total") {
            #expect(sample.labels["run"] == nil, "\(sample)")
        }
    }

    /// One `flowforge_incident_last_timestamp_seconds` series per program: a newer incident replaces the
    /// older one (so an alert on it names the incident and cardinality stays one per name), an older one
    /// arriving late (another run's spool ingested after) does not.
    @Test func lastIncidentKeepsOnlyTheNewestPerName() {
        let m = APIMetrics(.dashboard)
        let a = EventFeed(run: "ra", name: "crawler", start: 1_800_000_000)
        let b = EventFeed(run: "rb", name: "crawler", start: 1_700_000_000)
        for (feed, id, decision) in [(a, "ra-1", "restart"), (a, "ra-2", "would_kill"), (b, "rb-1", "kill")] {
            m.count(feed.next("incident.opened", incident: id, fields: ["verdict": "silentSpin"]))
            let mode = decision.hasPrefix("would") ? "shadow" : "enforce"
            m.count(feed.next("policy.decision", incident: id, fields: ["decision": decision, "mode": mode]))
        }
        let page = Exposition(m.renderDashboard(uptime: 1, live: []))
        let last = page.series("flowforge_incident_last_timestamp_seconds")
        #expect(last.count == 1, "\(last)")
        #expect(last.first?.labels == ["name": "crawler", "incident_id": "ra-2", "action": "would_kill", "rollout_mode": "shadow"])
        // The start of the incident (its incident.opened), in seconds.
        #expect(abs((last.first?.value ?? 0) - (1_800_000_000 + 3)) < 0.001, "\(last)")
        #expect(page.types["flowforge_incident_last_timestamp_seconds"] == "gauge")
    }

    /// A crash-loop stop and a degraded restart are told apart by `reason`.
    @Test func suppressedRestartsByReason() {
        let m = APIMetrics(.dashboard)
        let feed = EventFeed(run: "r1", name: "job")
        m.count(feed.next("restart.suppressed", fields: ["reason": "crash-loop guard: 5 restarts within 300 s; stopping"]))
        m.count(feed.next("restart.suppressed", fields: ["reason": "degraded: the spawner is gone; stopping instead of restarting"]))
        m.count(feed.next("supervisor.degraded", fields: ["reason": "spawner lost"]))
        let page = Exposition(m.renderDashboard(uptime: 1, live: []))
        #expect(page.value("flowforge_restarts_suppressed_total", ["name": "job", "reason": "crash_loop"]) == 1)
        #expect(page.value("flowforge_restarts_suppressed_total", ["name": "job", "reason": "degraded"]) == 1)
        #expect(page.value("flowforge_supervisor_degraded_total", ["name": "job"]) == 1)
    }

    /// The dashboard's per-run gauges exist while the run is live and are dropped once it is not: before, a
    /// finished run's `flowforge_worker_up` stayed at its last value (1) for as long as the dashboard ran.
    @Test func liveGaugesFollowLiveRuns() {
        let m = APIMetrics(.dashboard)
        let live = APIMetrics.LiveRun(runID: "r1", name: "api", sample: ["cpu_percent": "12.5", "rss_bytes": "1000", "processes": "2"],
                                      up: true, degraded: true)
        var page = Exposition(m.renderDashboard(uptime: 1, live: [live]))
        #expect(page.value("flowforge_worker_up", ["run": "r1", "name": "api"]) == 1)
        #expect(page.value("flowforge_run_degraded", ["run": "r1", "name": "api"]) == 1)
        #expect(page.value("flowforge_worker_cpu_percent", ["run": "r1", "name": "api"]) == 12.5)
        page = Exposition(m.renderDashboard(uptime: 2, live: []))
        for name in ["flowforge_worker_up", "flowforge_run_degraded", "flowforge_worker_cpu_percent"] {
            #expect(page.series(name).isEmpty, "\(name) of a run that ended: \(page.series(name))")
        }
        #expect(page.value("flowforge_uptime_seconds") == 2)
    }

    /// A run's own API labels its series with the run and the name, filling both in for events from the
    /// reaper's channel (which carry neither).
    @Test func runExporterLabelsRunAndName() {
        let m = APIMetrics(.run { ("r9", "etl") })
        m.count(TimelineEvent(runID: "", seq: 1, ts: "2026-01-01T00:00:00Z", wallNanos: 0, generation: 2, kind: "worker.started",
                              incidentID: nil, fields: ["pid": "1"]))
        let page = Exposition(m.render(RunState()))
        #expect(page.value("flowforge_worker_restarts_total", ["run": "r9", "name": "etl"]) == 1)
    }

    /// Every metric is documented in docs/metrics.md (with its type) and in openapi.yaml, and every family an
    /// exposition shows is one of `MetricName`.
    @Test func everyMetricIsDocumented() throws {
        let doc = try String(contentsOfFile: packageRoot + "/docs/metrics.md", encoding: .utf8)
        let openapi = try String(contentsOfFile: packageRoot + "/openapi.yaml", encoding: .utf8)
        for metric in MetricName.allCases {
            let row = doc.split(separator: "\n").first { $0.hasPrefix("| `\(metric.rawValue)` |") }
            #expect(row?.contains("| \(metric.type) |") == true, "docs/metrics.md: no row for \(metric.rawValue) as a \(metric.type)")
            #expect(openapi.contains("| `\(metric.rawValue)` | \(metric.type) |"), "openapi.yaml does not list \(metric.rawValue)")
        }
        let m = APIMetrics(.dashboard)
        let feed = EventFeed(run: "r1", name: "x")
        for kind in ["run.started", "incident.opened", "policy.decision", "restart.suppressed", "agent.exited", "supervisor.degraded"] {
            m.count(feed.next(kind, incident: kind.hasPrefix("incident") || kind.hasPrefix("policy") ? "r1-1" : nil,
                              fields: ["decision": "log", "mode": "log", "agent": "api", "reason": "crash-loop guard"]))
        }
        m.count(feed.next("worker.started", generation: 2, fields: [:]))
        m.countSkipped(lines: 1)
        let live = APIMetrics.LiveRun(runID: "r1", name: "x", sample: ["cpu_percent": "1"], up: true, degraded: false)
        let page = Exposition(m.renderDashboard(uptime: 1, live: [live]))
        for (family, type) in page.types {
            #expect(MetricName(rawValue: family)?.type == type, "\(family) (\(type)) is not a documented MetricName")
        }
    }

    // MARK: scraped from real processes

    /// A real runaway under `flowforge run --listen`: its `/metrics` names the program, the action, the rollout
    /// mode and the incident (the id in the run's spool), as the alert rules expect.
    @Test(.timeLimit(.minutes(1)))
    func runawayShowsOnTheRunsMetrics() throws {
        let port = try freeLoopbackPort()
        let ff = try Supervised(["--name", "spinner:3", "--listen", "127.0.0.1:\(port)", "--shadow-mode"] + fast + ["--"] + spinningWorker)
        defer {
            ff.signal(SIGTERM)
            if !ff.waitForExit(timeout: 10) { ff.signal(SIGKILL) }
        }
        var page = Exposition("")
        #expect(eventually(timeout: 40) {
            page = Exposition(httpGet(port: port, "/metrics") ?? "")
            return !page.series("flowforge_incident_last_timestamp_seconds").isEmpty
        }, "no incident on /metrics: \(ff.stderr)")
        let runID = try #require(spoolIncidents(ff.dir + "/state").first?.run)
        let incident = try #require(spoolIncidents(ff.dir + "/state").first?.id)
        let last = try #require(page.series("flowforge_incident_last_timestamp_seconds").first)
        #expect(last.labels == ["run": runID, "name": "spinner:3", "incident_id": incident, "action": "would_restart",
                                "rollout_mode": "shadow"])
        #expect(abs(last.value - Date().timeIntervalSince1970) < 60)
        #expect((page.value("flowforge_incidents_total", ["run": runID, "name": "spinner:3", "action": "would_restart",
                                                          "rollout_mode": "shadow"]) ?? 0) >= 1, "\(page.samples)")
        #expect(page.value("flowforge_run_degraded", ["run": runID, "name": "spinner:3"]) == 0)
        #expect(page.value("flowforge_worker_restarts_total", ["run": runID, "name": "spinner:3"]) == 0)
    }

    /// A crash loop seen by a real dashboard: the run restarts once (`--max-restarts 1`), runs away again and is
    /// stopped. The dashboard keeps what an alert needs after the run is gone: the crash-loop stop, the restart,
    /// both runaways and the newest one's id, all by name; the run's live gauges are gone with it.
    @Test(.timeLimit(.minutes(1)))
    func crashLoopShowsOnTheDashboard() throws {
        let state = NSTemporaryDirectory() + "ff-metrics-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: state) }
        let dashboard = try RealDashboard(stateDir: state)
        let ff = try Supervised(["--name", "looper", "--max-restarts", "1"] + fast + ["--"] + spinningWorker,
                                env: ["FLOWFORGE_STATE_DIR": state])
        defer { ff.signal(SIGKILL) }
        #expect(ff.waitForExit(timeout: 45), "\(ff.stderr)")
        #expect(ff.exitCode == 120)
        let incidents = spoolIncidents(state)
        #expect(incidents.count == 2, "\(incidents)")
        var page = Exposition("")
        #expect(eventually(timeout: 15) {
            page = Exposition(httpGet(port: dashboard.port, "/metrics") ?? "")
            return page.value("flowforge_restarts_suppressed_total", ["name": "looper", "reason": "crash_loop"]) == 1
                && page.series("flowforge_worker_up").isEmpty
        }, "\(page.samples)")
        #expect(page.value("flowforge_worker_restarts_total", ["name": "looper"]) == 1)
        #expect(page.value("flowforge_incidents_total", ["name": "looper", "action": "restart", "rollout_mode": "enforce"]) == 2)
        #expect(page.series("flowforge_incident_last_timestamp_seconds").map(\.labels["incident_id"]) == [incidents.last?.id])
        for sample in page.samples where sample.labels["name"] != nil {
            #expect(sample.labels["run"] == nil, "the dashboard's series of a finished run carry no run id: \(sample)")
        }

        // A restarted dashboard counts only new events, but still names the newest incident (from its store)
        // and has the program's alerting counters at 0 from the start.
        let port = dashboard.port
        dashboard.stop()
        #expect(httpGet(port: port, "/healthz") == nil)
        let again = try RealDashboard(stateDir: state)
        page = Exposition(httpGet(port: again.port, "/metrics") ?? "")
        #expect(page.series("flowforge_incident_last_timestamp_seconds").map(\.labels["incident_id"]) == [incidents.last?.id],
                "\(page.samples)")
        #expect(page.value("flowforge_worker_restarts_total", ["name": "looper"]) == 0)
        #expect(page.value("flowforge_restarts_suppressed_total", ["name": "looper", "reason": "crash_loop"]) == 0)
    }
}

// MARK: helpers

/// Events of one run with increasing sequence numbers, one second apart from `start` (Unix seconds).
final class EventFeed {
    let run: String
    let name: String
    let start: Int64
    var seq: UInt64 = 0

    init(run: String, name: String, start: Int64 = 1_800_000_000) {
        self.run = run
        self.name = name
        self.start = start
    }

    func next(_ kind: String, generation: UInt32 = 1, incident: String? = nil, fields: [String: String]) -> TimelineEvent {
        seq += 1
        let nanos = (start + Int64(seq)) * 1_000_000_000
        return TimelineEvent(runID: run, name: name, seq: seq, ts: Event.rfc3339(wallNanos: nanos), wallNanos: nanos,
                             generation: generation, kind: kind, incidentID: incident, fields: fields)
    }
}

/// A Prometheus text exposition, parsed (what this suite needs of it).
struct Exposition {
    struct Sample: CustomStringConvertible {
        let name: String
        let labels: [String: String]
        let value: Double
        var description: String { "\(name)\(labels.sorted { $0.key < $1.key }) \(value)" }
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                  let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                samples.append(Sample(name: String(series), labels: [:], value: value))
                continue
            }
            var labels: [String: String] = [:]
            // Label values here never contain `",` (names, ids and enums), so splitting on it is enough.
            let body = series[series.index(after: brace)..<series.index(before: series.endIndex)]
            for pair in body.split(separator: "\",") {
                guard let eq = pair.firstIndex(of: "=") else { continue }
                labels[String(pair[..<eq])] = String(pair[pair.index(eq, offsetBy: 2)...]).replacingOccurrences(of: "\"", with: "")
            }
            samples.append(Sample(name: String(series[..<brace]), labels: labels, value: value))
        }
    }

    func series(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    /// The value of the one series of `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        series(name).first { s in labels.allSatisfy { s.labels[$0.key] == $0.value } }?.value
    }
}

/// A `flowforge dashboard` on a free loopback port over `stateDir`, stopped when released.
final class RealDashboard {
    let process = Process()
    let port: UInt16

    init(stateDir: String) throws {
        port = try freeLoopbackPort()
        process.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        process.arguments = ["dashboard", "--listen", "127.0.0.1:\(port)"]
        var env = ProcessInfo.processInfo.environment
        env["FLOWFORGE_STATE_DIR"] = stateDir
        process.environment = env
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let port = port
        guard eventually(timeout: 15, { httpGet(port: port, "/healthz") != nil }) else {
            throw MetricsTestFailure("the dashboard never answered on port \(port)")
        }
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

struct MetricsTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A port the kernel just handed out on 127.0.0.1 (bound to 0, then released).
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw MetricsTestFailure("socket: errno \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw MetricsTestFailure("bind/getsockname: errno \(errno)") }
    return UInt16(bigEndian: addr.sin_port)
}

/// The body of a 200 answer to GET `path` on 127.0.0.1:`port` (curl, at most 3 s), or nil.
func httpGet(port: UInt16, _ path: String) -> String? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    p.arguments = ["-fsS", "--max-time", "3", "http://127.0.0.1:\(port)\(path)"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle(forWritingAtPath: "/dev/null")
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
}

/// The incidents opened in the state directory's spools, oldest first: (run id, incident id).
func spoolIncidents(_ stateDir: String) -> [(run: String, id: String)] {
    let runs = stateDir + "/runs"
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
    return files.flatMap { file in
        readEvents(runs + "/" + file).filter { $0["kind"] as? String == "incident.opened" }.compactMap { e in
            (e["run_id"] as? String).flatMap { run in (e["incident_id"] as? String).map { (run, $0) } }
        }
    }
}
