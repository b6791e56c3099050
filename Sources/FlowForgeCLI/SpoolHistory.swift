// FlowForge — how a named worker's last run ended, read from its spool (for `flowforge ps` on stopped instances).
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAPI
import FlowForgeModel
import FlowForgeSystem
import FlowForgeWire
import Foundation

/// The newest run of each name in `runs/`, and how it ended.
struct SpoolHistory {
    /// How a run that is no longer live ended.
    struct Ending {
        let runID: String
        /// `stopped` or `crash-loop stopped`.
        let state: String
        /// A short account: the exit, the teardown's cause or the crash-loop guard's reason.
        let detail: String
        let restarts: Int
    }

    let runs: String

    /// The newest run of each of `names`: the first segment's first line names the run; runs compare by their
    /// first line's time. Only the first 4 KiB of each first segment is read.
    func newestRuns(of names: Set<String>) -> [String: String] {
        var newest: [String: (ts: String, runID: String)] = [:]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
        for file in files {
            guard let (runID, segment) = StateDirectory.spoolSegment(ofName: file), segment == 1,
                  let first = firstEvent(runs + "/" + file), names.contains(first.name) else { continue }
            if (newest[first.name]?.ts ?? "") < first.ts { newest[first.name] = (first.ts, runID) }
        }
        return newest.mapValues(\.runID)
    }

    /// How run `runID` ended, from the last 256 KiB of its newest segment.
    func ending(of runID: String) -> Ending {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
        let last = files.compactMap { StateDirectory.spoolSegment(ofName: $0) }.filter { $0.runID == runID }.map(\.segment).max() ?? 1
        let path = runs + "/" + StateDirectory.spoolName(runID: runID, segment: last)
        var detail = "no record of its end"
        var state = "stopped"
        var generation: UInt32 = 0
        SpoolTail.read(fd: (try? FileIO.open(path, .readOnly)) ?? -1, window: 256 * 1024) { line in
            guard let e = TimelineEvent(jsonLine: line) else { return }
            generation = max(generation, e.generation)
            switch EventKind(rawValue: e.kind) {
            case .workerExited?:
                if let code = e.fields["exit_code"] { detail = "worker exited with \(code)" }
                if let signal = e.fields["signal"] { detail = "worker ended by signal \(signal)" }
            case .teardownFinished?:
                if let cause = e.fields["cause"] { detail = cause }
            case .restartSuppressed?:
                let reason = e.fields["reason"] ?? ""
                state = RestartSuppression(reason: reason) == .crashLoop ? "crash-loop stopped" : "stopped"
                detail = reason.isEmpty ? "restart suppressed" : reason
            default: break
            }
        }
        return Ending(runID: runID, state: state, detail: detail, restarts: max(0, Int(generation) - 1))
    }

    /// The first event of a spool segment (its first line, within the first 4 KiB).
    private func firstEvent(_ path: String) -> TimelineEvent? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 4096)) ?? Data()
        guard let line = data.split(separator: UInt8(ascii: "\n")).first else { return nil }
        return TimelineEvent(jsonLine: Substring(decoding: line, as: UTF8.self))
    }
}
