// FlowForge — `flowforge replay`: re-run the detector offline over recorded events with other thresholds.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeConfig
import FlowForgeDetector
import FlowForgeSystem
import FlowForgeWire
import Foundation

/// `flowforge replay [thresholds] FILE...`: what the detector would have decided on recorded runs.
///
/// Each `sample` event of a recording carries the tree's cumulative CPU ticks and the output lines since the
/// previous sample; replay feeds both to the same `DetectorEngine` the live detector runs, at the recorded
/// times. Recorded output is bounded per sample (64 lines, 3000 bytes), so replay judges repetition on
/// that subsample — enough for loops, which repeat by definition. Shadow-mode recordings are the best input:
/// the worker ran to its end, whatever was decided.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run runaway detection offline over recorded --events files with other thresholds.",
        discussion: """
            Prints one JSON object per (file, generation): file, run_id, generation, samples, detected, \
            latency_seconds (from the generation's worker.started event, else its first sample), \
            peak_cpu_percent, confidence, reason, why, skipped_lines. --sample-interval is taken from the \
            recording and ignored here. `reason` is the detection's; `why` explains an undetected \
            generation: the verdict at its most suspicious sample (the longest high-CPU run, the last such \
            sample), e.g. why a healthy recording was left alone.

            Lines that are not JSON objects (a last line cut short when the writer was killed, a damaged \
            file), and samples older than the sample before them, are skipped, counted in skipped_lines and \
            reported on stderr; the rest is replayed.

            Example:
              flowforge replay --max-cpu 70 --min-confidence 0.9 pilot-report/latest/*.jsonl
            """
    )

    @OptionGroup var thresholds: ThresholdOptions

    @Option(help: "CPU cores of the machine the recordings come from; bounds --max-cpu at 100 per core (default: this machine's).")
    var cores: Int?

    @Argument(help: "Events files written by flowforge run --events.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one events file") }
        if let cores, !(1...4096).contains(cores) { throw ValidationError("--cores must be 1-4096, got \(cores)") }
    }

    func run() throws {
        let cores = cores ?? ThresholdOptions.cores
        let settings = try SettingsResolver.resolve(configPath: thresholds.config, given: thresholds.given, cores: cores)
        var options = DetectorOptions()
        options.thresholds = ThresholdOptions.thresholds(settings)
        options.cores = cores
        options.onRunaway = .kill
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read \(file)")
            }
            let (results, skipped) = try Self.replay(text, options: options)
            if let first = skipped.first {
                FileIO.warn("flowforge replay: \(file): skipped \(skipped.count) line\(skipped.count == 1 ? "" : "s") that \(skipped.count == 1 ? "is" : "are") not a JSON object or out of order (line \(first)\(skipped.count > 1 ? ", ..." : ""))")
            }
            for result in results {
                var object = result
                object["file"] = file
                object["skipped_lines"] = skipped.count
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }

    /// Replays one recording: one result per generation, in order, and the (1-based) numbers of the lines
    /// that were skipped because they are not JSON objects.
    static func replay(_ text: String, options: DetectorOptions) throws -> (results: [[String: Any]], skipped: [Int]) {
        struct Run { var engine: DetectorEngine; var samples = 0; var first: UInt64 = 0; var previous: UInt64 = 0; var peak = 0.0
                     var detected: [String: Any]? ; var maxConfidence = 0.0
                     var why = ""; var whySustained = -1.0 }
        var runs: [String: Run] = [:]
        var order: [String] = []
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var skipped: [Int] = []
        var started: [String: UInt64] = [:]
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let event = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                skipped.append(n + 1)
                continue
            }
            guard let kind = event["kind"] as? String, kind == EventKind.sample.rawValue || kind == EventKind.workerStarted.rawValue,
                  let g = event["generation"] as? Int, g > 0, g <= Int(UInt32.max),
                  let ts = event["ts"] as? String, let date = iso.date(from: ts) else { continue }
            let fields = event["fields"] as? [String: Any] ?? [:]
            let runID = event["run_id"] as? String ?? "run"
            let key = "\(runID)/\(g)"
            let now = UInt64(max(0, min(date.timeIntervalSince1970, 1e10) * 1e9))
            if kind == EventKind.workerStarted.rawValue {
                // The generation starts when its worker did, as it did for the live detector (record rates
                // are measured from there), not at its first sample.
                if runs[key] == nil { started[key] = now }
                continue
            }
            if runs[key] == nil {
                var engine = try DetectorEngine(options: options)
                engine.welcome(runID: runID)
                let start = min(started[key] ?? now, now)
                engine.workerStarted(generation: UInt32(g), pid: 0, name: "replay", now: start)
                runs[key] = Run(engine: engine, first: start, previous: start)
                order.append(key)
            }
            guard var run = runs[key] else { continue }
            // A sample older than the one before it (a damaged or concatenated file) cannot be replayed in
            // order: skip it rather than run the clock backwards.
            guard now >= run.previous else {
                skipped.append(n + 1)
                continue
            }
            if let output = fields["output"] as? String, !output.isEmpty {
                // The live detector saw these lines arrive between the previous sample and this one: spread
                // them evenly over that interval instead of stacking them on the sample's instant.
                let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
                let span = now > run.previous ? now - run.previous : 0
                for (i, line) in lines.enumerated() {
                    let at = run.previous + span * UInt64(i + 1) / UInt64(lines.count)
                    run.engine.output(Array((line + "\n").utf8), stderr: false, now: at)
                }
            }
            run.previous = now
            let ticks = UInt64(max(0, min(number(fields["ticks"]) ?? 0, 1e18)))
            let tps = UInt64(max(1, min(number(fields["ticks_per_second"]) ?? 100, 1e9)))
            var activity: ProcessActivity?
            if let syscalls = number(fields["io_syscalls"]), let bytes = number(fields["io_bytes"]) {
                activity = ProcessActivity(syscalls: UInt64(max(0, min(syscalls, 1e18))), bytes: UInt64(max(0, min(bytes, 1e18))),
                                           voluntarySwitches: UInt64(max(0, min(number(fields["io_switches"]) ?? 0, 1e18))),
                                           readable: true)
            }
            let outputs = run.engine.sample(ticks: ticks, ticksPerSecond: max(1, tps), rssBytes: 0, processes: 0, tree: "",
                                            activity: activity, now: now)
            run.samples += 1
            if let verdict = run.engine.lastVerdict, verdict.sustainedSeconds >= run.whySustained * 0.999 || run.why.isEmpty {
                run.why = verdict.reason
                run.whySustained = max(run.whySustained, verdict.sustainedSeconds)
            }
            for output in outputs {
                guard case .event(let kind, let f) = output else { continue }
                if kind == .sample {
                    run.peak = max(run.peak, Double(f["cpu_percent"] ?? "") ?? 0)
                    run.maxConfidence = max(run.maxConfidence, Double(f["confidence"] ?? "") ?? 0)
                }
                if kind == .incidentOpened && run.detected == nil {
                    run.detected = ["latency_seconds": Double(now &- run.first) / 1e9, "confidence": Double(f["confidence"] ?? "") ?? 0,
                                    "reason": f["reason"] ?? ""]
                }
            }
            runs[key] = run
        }
        let results: [[String: Any]] = order.compactMap { key in
            guard let run = runs[key] else { return nil }
            let parts = key.split(separator: "/")
            var result: [String: Any] = ["run_id": String(parts.dropLast().joined(separator: "/")), "generation": Int(parts.last ?? "0") ?? 0,
                                         "samples": run.samples, "detected": run.detected != nil,
                                         "peak_cpu_percent": (run.peak * 10).rounded() / 10]
            result["latency_seconds"] = run.detected?["latency_seconds"] ?? NSNull()
            result["confidence"] = run.detected?["confidence"] ?? (run.maxConfidence * 1000).rounded() / 1000
            result["reason"] = run.detected?["reason"] ?? ""
            result["why"] = run.detected?["reason"] ?? run.why
            return result
        }
        return (results, skipped)
    }

    private static func number(_ v: Any?) -> Double? {
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        if let s = v as? String { return Double(s) }
        return nil
    }
}
