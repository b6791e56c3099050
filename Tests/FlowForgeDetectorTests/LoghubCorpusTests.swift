// FlowForge — real system logs (public loghub samples) replayed through the whole detector at full CPU.
// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing
@testable import FlowForgeDetector

/// The eight loghub samples in `../shared/corpora/loghub` (beside the repository; `FLOWFORGE_LOGHUB_DIR`
/// overrides): logs of working software, read in place and never copied into the repository (see the
/// LICENSE and CITATION there). Each whole file is fed to a `DetectorEngine` as a worker printing 15 lines/s
/// on a fully busy core would print it, at the default thresholds and at `--max-cpu 70`. None may be
/// called a runaway: templated lines with new block ids, hosts, pids and ports are progress.
@Suite struct LoghubCorpusTests {
    static let files = ["Android_2k.log", "BGL_2k.log", "HPC_2k.log", "Linux_2k.log", "Mac_2k.log",
                        "OpenSSH_2k.log", "Thunderbird_2k.log", "Windows_2k.log"]

    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["FLOWFORGE_LOGHUB_DIR"] { return dir }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/corpora/loghub").path
    }

    /// CI has the shared corpus beside its clone: there a missing corpus is a failure, not a skip.
    static var available: Bool {
        FileManager.default.fileExists(atPath: directory + "/" + files[0]) || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// Replays `lines` at `linesPerSecond` with the tree at 100% of one core; returns every verdict's
    /// runaway flag and the longest run of repeating records seen.
    static func replay(_ lines: [Substring], linesPerSecond: Double, maxCPU: Double) throws -> (runaway: Bool, reason: String, longestRepeat: Int) {
        var options = DetectorOptions()
        options.thresholds = DetectionThresholds(maxCPU: maxCPU)
        options.cores = 2
        options.onRunaway = .kill
        var engine = try DetectorEngine(options: options)
        engine.welcome(runID: "loghub")
        engine.workerStarted(generation: 1, pid: 1, name: "replay", now: 0)
        let second: UInt64 = 1_000_000_000
        var now: UInt64 = 0
        var ticks: UInt64 = 0
        var index = 0
        var longest = 0
        var firstReason = ""
        while index < lines.count {
            let count = Int((Double(now / second + 1) * linesPerSecond).rounded(.down)) - Int((Double(now / second) * linesPerSecond).rounded(.down))
            for k in 0..<count where index < lines.count {
                engine.output(Array((lines[index] + "\n").utf8), stderr: false, now: now + UInt64(k) * second / UInt64(max(1, count)))
                index += 1
            }
            now += second
            ticks += 100
            for output in engine.sample(ticks: ticks, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", now: now) {
                if case .event(.incidentOpened, let fields) = output, firstReason.isEmpty { firstReason = fields["reason"] ?? "" }
            }
            longest = max(longest, engine.lastVerdict?.repeatingRecords ?? 0)
        }
        return (!firstReason.isEmpty, firstReason, longest)
    }

    @Test(.enabled(if: available), arguments: files, [85.0, 70.0])
    func realLogAtFullCPUIsHealthy(_ file: String, _ maxCPU: Double) throws {
        let text = try String(contentsOfFile: Self.directory + "/" + file, encoding: .utf8)
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) // CRLF is one Character
        #expect(lines.count >= 1900)
        let result = try Self.replay(lines, linesPerSecond: 15, maxCPU: maxCPU)
        #expect(!result.runaway, "\(file) at --max-cpu \(maxCPU): \(result.reason)")
        // Nothing repeats for long in real logs: the longest stretch stays well under the ~150 records that
        // 10 s of output at 15 lines/s would need (Windows CBS: 104, its 3-line manifest-warning cycle).
        #expect(result.longestRepeat < 120, "\(file): \(result.longestRepeat) records in a row repeated")
    }

    /// Negative control: the same replay catches a loop, so the healthy verdicts above are not vacuous.
    @Test func theReplayCatchesALoop() throws {
        let lines = [Substring]((0..<400).map { _ in "Agent: calling tool search_docs(query='retry policy') -> error: no results" })
        let result = try Self.replay(lines, linesPerSecond: 15, maxCPU: 85)
        #expect(result.runaway, "\(result.reason)")
    }
}
