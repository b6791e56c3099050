// FlowForge — how a named worker's last run ended, read from its spool (for `flowforge ps` on stopped instances).
// SPDX-License-Identifier: Apache-2.0
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
                  let first = firstLine(runs + "/" + file),
                  let name = first["name"] as? String, names.contains(name), let ts = first["ts"] as? String else { continue }
            if (newest[name]?.ts ?? "") < ts { newest[name] = (ts, runID) }
        }
        return newest.mapValues(\.runID)
    }

    /// How run `runID` ended, from the last 256 KiB of its newest segment.
    func ending(of runID: String) -> Ending {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
        let last = files.compactMap { StateDirectory.spoolSegment(ofName: $0) }.filter { $0.runID == runID }.map(\.segment).max() ?? 1
        let events = tail(runs + "/" + StateDirectory.spoolName(runID: runID, segment: last), bytes: 256 * 1024)
        var detail = "no record of its end"
        var state = "stopped"
        var generation = 0
        for e in events {
            let fields = e["fields"] as? [String: Any] ?? [:]
            generation = max(generation, e["generation"] as? Int ?? 0)
            switch e["kind"] as? String {
            case EventKind.workerExited.rawValue?:
                if let code = fields["exit_code"] { detail = "worker exited with \(code)" }
                if let signal = fields["signal"] { detail = "worker ended by signal \(signal)" }
            case EventKind.teardownFinished.rawValue?:
                if let cause = fields["cause"] as? String { detail = cause }
            case EventKind.restartSuppressed.rawValue?:
                state = "crash-loop stopped"
                detail = fields["reason"] as? String ?? "restart suppressed"
            default: break
            }
        }
        return Ending(runID: runID, state: state, detail: detail, restarts: max(0, generation - 1))
    }

    private func firstLine(_ path: String) -> [String: Any]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 4096)) ?? Data()
        guard let line = data.split(separator: UInt8(ascii: "\n")).first else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
    }

    private func tail(_ path: String, bytes: Int) -> [[String: Any]] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(bytes) ? size - UInt64(bytes) : 0
        try? handle.seek(toOffset: start)
        var lines = ((try? handle.readToEnd()) ?? Data()).split(separator: UInt8(ascii: "\n"))
        if start > 0, !lines.isEmpty { lines.removeFirst() } // cut mid-line
        return lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] }
    }
}
