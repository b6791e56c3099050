// FlowForge — `flowforge ps`: every instance of the fleet and every live run, with state, pid, uptime, CPU,
// memory, restarts and open incidents.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem
import FlowForgeWire
import Foundation

/// `flowforge ps [--json] [--config FILE]`.
struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List the fleet's instances and every live run: state, pid, uptime, CPU, memory, restarts, incidents.",
        discussion: """
            Live runs answer on their control sockets (runs/*.sock in the state directory); every instance of \
            the config file (--config, FLOWFORGE_CONFIG, else the one the last flowforge up used) that is not \
            live is listed from its newest spool.

            States: running; degraded (running, but its run lost its spawner: no restarts); stopped (no live \
            run); crash-loop stopped (the run ended because the crash-loop guard suppressed a restart).

            --json prints an array of objects: name, instance (null for a run named without one), state, pid \
            (the worker's, 0 when none), reaper_pid, run_id, uptime_seconds, cpu_percent, rss_bytes, \
            restarts, open_incidents and detail; fields that are unknown are null.

            Examples:
              flowforge ps
              flowforge ps --json | jq '.[] | select(.state != "running")'
            """
    )

    @Flag(help: "Print a JSON array instead of a table.")
    var json = false

    @Option(help: "The fleet's config file (default: FLOWFORGE_CONFIG, else the one the last flowforge up used).")
    var config: String?

    func run() throws {
        let state = Executable.absolute(StateDirectory.path())
        let rows = try PsCommand.rows(state: state, configured: Fleet.configuredNames(config: config, state: state))
        if json {
            let data = try JSONSerialization.data(withJSONObject: rows.map(\.json), options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(PsCommand.table(rows), terminator: "")
        }
    }

    /// One line of `ps`.
    struct Row {
        var program: String
        var instance: Int?
        var state: String
        var pid: Int32 = 0
        var reaperPID: Int32?
        var runID: String?
        var uptime: Double?
        var cpu: Double?
        var rss: Int?
        var restarts: Int?
        var openIncidents: Int?
        var detail = ""

        var name: String { instance.map { "\(program):\($0)" } ?? program }

        var json: [String: Any] {
            func orNull(_ v: Any?) -> Any { v ?? NSNull() }
            return ["name": program, "instance": orNull(instance), "state": state, "pid": Int(pid),
                    "reaper_pid": orNull(reaperPID.map { Int($0) }), "run_id": orNull(runID), "uptime_seconds": orNull(uptime),
                    "cpu_percent": orNull(cpu), "rss_bytes": orNull(rss), "restarts": orNull(restarts),
                    "open_incidents": orNull(openIncidents), "detail": detail]
        }
    }

    /// Live runs first by name, then the configured instances that are not live.
    static func rows(state: String, configured: [String]) -> [Row] {
        let live = Fleet.liveRuns(state: state)
        var rows: [Row] = []
        for run in live {
            let name = WorkerName(run.name) ?? WorkerName.defaulted(command: run.name)
            var row = Row(program: run.name.isEmpty ? "(unnamed)" : name.program, instance: name.instance,
                          state: run.degraded ? "degraded" : "running", pid: run.workerPID, reaperPID: run.reaperPID > 0 ? run.reaperPID : nil,
                          runID: run.runID)
            if run.name.isEmpty { row.detail = run.runID }
            if !run.live { row.detail = "between generations (restarting)" }
            if let started = run.status["worker_started"] as? String, let date = rfc3339(started) { row.uptime = max(0, Date().timeIntervalSince(date)) }
            row.cpu = run.status["cpu_percent"] as? Double
            row.rss = run.status["rss_bytes"] as? Int
            row.restarts = run.status["restarts"] as? Int
            row.openIncidents = run.status["open_incidents"] as? Int
            rows.append(row)
        }
        let liveNames = Set(live.map(\.name))
        let stopped = configured.filter { !liveNames.contains($0) }
        let history = SpoolHistory(runs: state + "/runs")
        let newest = stopped.isEmpty ? [:] : history.newestRuns(of: Set(stopped))
        for name in stopped {
            guard let parsed = WorkerName(name) else { continue }
            var row = Row(program: parsed.program, instance: parsed.instance, state: "stopped", detail: "never started")
            if let runID = newest[name] {
                let ending = history.ending(of: runID)
                row.state = ending.state
                row.detail = ending.detail
                row.runID = runID
                row.restarts = ending.restarts
            }
            rows.append(row)
        }
        return rows.sorted { ($0.program, $0.instance ?? 0) < ($1.program, $1.instance ?? 0) }
    }

    static func table(_ rows: [Row]) -> String {
        var lines = [["NAME", "INSTANCE", "STATE", "PID", "UPTIME", "CPU%", "RSS", "RESTARTS", "INCIDENTS", "DETAIL"]]
        for r in rows {
            lines.append([r.program, r.instance.map(String.init) ?? "-", r.state, r.pid > 0 ? "\(r.pid)" : "-",
                          r.uptime.map(duration) ?? "-", r.cpu.map { String(format: "%.1f", $0) } ?? "-", r.rss.map(bytes) ?? "-",
                          r.restarts.map(String.init) ?? "-", r.openIncidents.map(String.init) ?? "-", r.detail])
        }
        let widths = (0..<lines[0].count).map { c in lines.map { $0[c].count }.max() ?? 0 }
        return lines.map { line in
            line.enumerated().map { c, cell in c == line.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s)
        if t < 60 { return "\(t)s" }
        if t < 3600 { return "\(t / 60)m\(t % 60)s" }
        if t < 86_400 { return "\(t / 3600)h\(t % 3600 / 60)m" }
        return "\(t / 86_400)d\(t % 86_400 / 3600)h"
    }

    static func bytes(_ n: Int) -> String {
        if n < 1 << 20 { return String(format: "%.0fK", Double(n) / 1024) }
        if n < 1 << 30 { return String(format: "%.1fM", Double(n) / 1_048_576) }
        return String(format: "%.2fG", Double(n) / 1_073_741_824)
    }

    /// A FlowForge timestamp (`2026-12-07T11:21:30.380549Z`, UTC, up to nanoseconds).
    static func rfc3339(_ text: String) -> Date? {
        guard text.hasSuffix("Z") else { return nil }
        let parts = text.dropLast().split(separator: ".", maxSplits: 1)
        guard let whole = ISO8601DateFormatter().date(from: parts[0] + "Z") else { return nil }
        let fraction = parts.count == 2 ? Double("0." + parts[1]) ?? 0 : 0
        return whole.addingTimeInterval(fraction)
    }
}
