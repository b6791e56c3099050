// FlowForge — `flowforge demo`: a bundled worker goes runaway, is restarted, and recovers, in about 10 s.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem
import FlowForgeWire
import Foundation

/// `flowforge demo`: runs the demo worker under `flowforge run` and summarises what happened.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Watch FlowForge catch a runaway worker, restart it, and see it recover (about 10 seconds).",
        discussion: """
            The demo worker loops on the same step while burning a core; FlowForge detects it, restarts it, \
            and the second generation behaves. The summary names the incident, the CPU peak and the \
            recovery; the full event chain is written to a JSON-lines file whose path is printed.

            Example:
              flowforge demo
            """
    )

    @Option(help: "Write the demo's events here instead of a temporary file.")
    var events: String?

    @Flag(help: "Show the worker's own output instead of keeping it in a log file.")
    var showOutput = false

    func run() throws {
        let dir = ProcessEnvironment.executableDirectory()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("flowforge-demo-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let eventsPath = events ?? work.appendingPathComponent("events.jsonl").path
        let logPath = work.appendingPathComponent("worker.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        print("FlowForge demo: supervising a worker that will get stuck repeating one step.")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: dir + "/flowforge")
        process.arguments = ["run", "--sustain", "2", "--sample-interval", "0.5", "--recovery-window", "3", "--grace", "1",
                             "--log-level", "warn", "--events", eventsPath, "--", dir + "/flowforge", "demo-worker"]
        if !showOutput { process.standardOutput = FileHandle(forWritingAtPath: logPath) }
        try process.run()
        // The whole demo is bounded: generation 2 exits by itself; 30 s is a hard stop.
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        let summary = DemoSummary(eventsPath: eventsPath)
        for line in summary.lines { print(line) }
        print("Events: \(eventsPath)")
        if !showOutput { print("Worker output: \(logPath)") }
        guard summary.complete else { throw ExitCode(1) }
    }
}

/// Reads a run's JSON-lines events and tells its story.
struct DemoSummary {
    var lines: [String] = []
    var complete = false

    init(eventsPath: String) {
        guard let text = try? String(contentsOfFile: eventsPath, encoding: .utf8) else {
            lines = ["No events were recorded (\(eventsPath))."]
            return
        }
        let events = text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        func fields(_ e: [String: Any]) -> [String: Any] { e["fields"] as? [String: Any] ?? [:] }
        func string(_ v: Any?) -> String { v.map { "\($0)" } ?? "?" }
        var detected = false, recovered = false
        if let opened = events.first(where: { $0["kind"] as? String == EventKind.incidentOpened.rawValue }) {
            let f = fields(opened)
            lines.append("Runaway detected in \(string(f["worker"])) (pid \(string(f["pid"]))): \(string(f["reason"]))")
            let peak = events.filter { ($0["generation"] as? Int) == (opened["generation"] as? Int) && $0["kind"] as? String == EventKind.sample.rawValue }
                .compactMap { fields($0)["cpu_percent"] as? Double }.max() ?? (f["peak_cpu_percent"] as? Double ?? 0)
            lines.append("CPU peaked at \(Int(peak.rounded()))%")
            detected = true
            if let started = events.first(where: { $0["kind"] as? String == EventKind.workerStarted.rawValue && ($0["generation"] as? Int ?? 0) > (opened["generation"] as? Int ?? 0) }) {
                lines.append("Action: restart (SIGTERM to the worker's tree, then a new generation as pid \(string(fields(started)["pid"])))")
            }
        } else {
            lines.append("No runaway was detected.")
        }
        if let rec = events.first(where: { $0["kind"] as? String == EventKind.incidentRecovered.rawValue }) {
            lines.append("Process recovered: generation \(string(rec["generation"])) stayed healthy for \(string(fields(rec)["recovery_window_seconds"]))s")
            recovered = true
        } else if detected {
            lines.append("The worker did not recover.")
        }
        complete = detected && recovered
    }
}

/// The demo's worker (hidden): generation 1 loops on one step at full speed; later generations do varied,
/// light work for a few seconds and exit 0.
struct DemoWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo-worker", shouldDisplay: false)

    func run() throws {
        let generation = Int(ProcessInfo.processInfo.environment["FLOWFORGE_GENERATION"] ?? "1") ?? 1
        // One write per line, like a worker that flushes: the demo must not depend on stdio buffering.
        func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        if generation == 1 {
            var attempt = 0
            while true {
                attempt += 1
                say("agent step 7: calling tool search_code(query=\"TODO\") -> no results, retrying (attempt \(attempt))")
                // Spin 5 ms per step: a full core, a few hundred identical lines a second.
                let until = DispatchTime.now().uptimeNanoseconds + 5_000_000
                var x = 0.0
                while DispatchTime.now().uptimeNanoseconds < until { x += Double(attempt).squareRoot() }
                if x < 0 { say("\(x)") }
            }
        }
        let tasks = ["fetching issue list", "parsing 12 files", "summarising module Reaper", "writing report section 2",
                     "checking links", "uploading artifact", "closing session"]
        let end = Date().addingTimeInterval(5)
        var i = 0
        while Date() < end {
            say("step \(i): \(tasks[i % tasks.count]) ok")
            i += 1
            usleep(200_000)
        }
        say("done: all tasks complete")
    }
}
