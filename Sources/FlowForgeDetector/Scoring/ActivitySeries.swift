// FlowForge — the tree's read/write calls and context switches over time, to tell a silent worker from a silent spin.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem

/// Cumulative `ProcessActivity` samples of the worker's tree, kept for `retentionSeconds`, and the rates
/// between them. The silence rule asks `isQuiet(overSeconds:)`: a worker that prints nothing but reads,
/// writes or blocks is working (an index build writing its results, a job streaming a file); a tight spin
/// does none of that.
public struct ActivitySeries: Sendable {
    /// At or above any of these rates a tree counts as active.
    public static let syscallsPerSecond = 1.0
    public static let bytesPerSecond = 4096.0
    public static let voluntarySwitchesPerSecond = 50.0

    private var samples: [(at: UInt64, activity: ProcessActivity)] = []
    public let retentionSeconds: Double

    public init(retentionSeconds: Double = 180) {
        self.retentionSeconds = retentionSeconds
    }

    /// Records the tree's cumulative counters at `time` (ns). Unreadable samples are kept as gaps.
    public mutating func record(at time: UInt64, _ activity: ProcessActivity) {
        samples.append((time, activity))
        let horizon = UInt64(retentionSeconds * 1e9)
        if let first = samples.first, time > first.at &+ horizon {
            samples.removeAll { time > $0.at &+ horizon }
        }
    }

    public mutating func reset() { samples = [] }

    /// The tree's rates over the last `seconds`: syscalls/s, bytes/s, voluntary switches/s, or nil when fewer
    /// than two readable samples cover at least half of that span. Counters that went down (a process left
    /// the tree) count as no activity for that step.
    public func rates(overSeconds seconds: Double) -> (syscalls: Double, bytes: Double, switches: Double)? {
        guard let last = samples.last, last.activity.readable, seconds > 0 else { return nil }
        let from = last.at > UInt64(seconds * 1e9) ? last.at - UInt64(seconds * 1e9) : 0
        var syscalls = 0.0, bytes = 0.0, switches = 0.0
        var previous: ProcessActivity?
        var start: UInt64?
        for sample in samples where sample.at >= from {
            guard sample.activity.readable else { previous = nil; continue }
            if let p = previous {
                syscalls += sample.activity.syscalls > p.syscalls ? Double(sample.activity.syscalls - p.syscalls) : 0
                bytes += sample.activity.bytes > p.bytes ? Double(sample.activity.bytes - p.bytes) : 0
                switches += sample.activity.voluntarySwitches > p.voluntarySwitches
                    ? Double(sample.activity.voluntarySwitches - p.voluntarySwitches) : 0
            }
            if start == nil { start = sample.at }
            previous = sample.activity
        }
        guard let start, last.at > start else { return nil }
        let span = Double(last.at - start) / 1e9
        guard span >= seconds / 2 else { return nil }
        return (syscalls / span, bytes / span, switches / span)
    }

    /// Whether the tree did (almost) no I/O and never blocked over the last `seconds`; nil when unknown.
    public func isQuiet(overSeconds seconds: Double) -> Bool? {
        guard let r = rates(overSeconds: seconds) else { return nil }
        return r.syscalls < Self.syscallsPerSecond && r.bytes < Self.bytesPerSecond
            && r.switches < Self.voluntarySwitchesPerSecond
    }
}
