// FlowForge — `flowforge replay`: re-run the detector offline over recorded events with other thresholds.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeConfig
import FlowForgeDetector
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
            Prints one JSON object per (file, generation): file, run_id, generation, samples, detected,
            latency_seconds (from the generation's first sample), peak_cpu_percent, confidence, reason.
            --sample-interval is taken from the recording and ignored here.

            Example:
              flowforge replay --max-cpu 70 --min-confidence 0.9 pilot-report/latest/*.jsonl
            """
    )

    @OptionGroup var thresholds: ThresholdOptions

    @Argument(help: "Events files written by flowforge run --events.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one events file") }
    }

    func run() throws {
        let settings = try SettingsResolver.resolve(configPath: thresholds.config, given: thresholds.given)
        var options = DetectorOptions()
        options.thresholds = ThresholdOptions.thresholds(settings)
        options.cores = ThresholdOptions.cores
        options.onRunaway = .kill
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read \(file)")
            }
            for result in try Self.replay(text, options: options) {
                var object = result
                object["file"] = file
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }

    /// Replays one recording; one result per generation, in order.
    static func replay(_ text: String, options: DetectorOptions) throws -> [[String: Any]] {
        struct Run { var engine: DetectorEngine; var samples = 0; var first: UInt64 = 0; var peak = 0.0
                     var detected: [String: Any]? ; var maxConfidence = 0.0 }
        var runs: [String: Run] = [:]
        var order: [String] = []
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for (n, line) in text.split(separator: "\n").enumerated() {
            guard let event = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw ValidationError("line \(n + 1) is not a JSON object")
            }
            guard event["kind"] as? String == "sample", let g = event["generation"] as? Int, g > 0,
                  let ts = event["ts"] as? String, let date = iso.date(from: ts) else { continue }
            let fields = event["fields"] as? [String: Any] ?? [:]
            let runID = event["run_id"] as? String ?? "run"
            let key = "\(runID)/\(g)"
            let now = UInt64(max(0, date.timeIntervalSince1970 * 1e9))
            if runs[key] == nil {
                var engine = try DetectorEngine(options: options)
                engine.welcome(runID: runID)
                engine.workerStarted(generation: UInt32(g), pid: 0, name: "replay", now: now)
                runs[key] = Run(engine: engine, first: now)
                order.append(key)
            }
            guard var run = runs[key] else { continue }
            if let output = fields["output"] as? String, !output.isEmpty {
                run.engine.output(Array((output + "\n").utf8), stderr: false, now: now)
            }
            let ticks = UInt64(number(fields["ticks"]) ?? 0)
            let tps = UInt64(number(fields["ticks_per_second"]) ?? 100)
            let outputs = run.engine.sample(ticks: ticks, ticksPerSecond: max(1, tps), rssBytes: 0, processes: 0, tree: "", now: now)
            run.samples += 1
            for output in outputs {
                guard case .event(let kind, let f) = output else { continue }
                if kind == "sample" {
                    run.peak = max(run.peak, Double(f["cpu_percent"] ?? "") ?? 0)
                    run.maxConfidence = max(run.maxConfidence, Double(f["confidence"] ?? "") ?? 0)
                }
                if kind == "incident.opened" && run.detected == nil {
                    run.detected = ["latency_seconds": Double(now - run.first) / 1e9, "confidence": Double(f["confidence"] ?? "") ?? 0,
                                    "reason": f["reason"] ?? ""]
                }
            }
            runs[key] = run
        }
        return order.compactMap { key in
            guard let run = runs[key] else { return nil }
            let parts = key.split(separator: "/")
            var result: [String: Any] = ["run_id": String(parts.dropLast().joined(separator: "/")), "generation": Int(parts.last ?? "0") ?? 0,
                                         "samples": run.samples, "detected": run.detected != nil,
                                         "peak_cpu_percent": (run.peak * 10).rounded() / 10]
            result["latency_seconds"] = run.detected?["latency_seconds"] ?? NSNull()
            result["confidence"] = run.detected?["confidence"] ?? (run.maxConfidence * 1000).rounded() / 1000
            result["reason"] = run.detected?["reason"] ?? ""
            return result
        }
    }

    private static func number(_ v: Any?) -> Double? {
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        if let s = v as? String { return Double(s) }
        return nil
    }
}
