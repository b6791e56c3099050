// FlowForge — CPU usage of a worker's process tree, derived from cumulative tick samples.
// SPDX-License-Identifier: Apache-2.0

/// CPU use between two consecutive samples.
public struct CPUInterval: Sendable, Equatable {
    /// Interval start, in nanoseconds.
    public var start: UInt64
    /// Interval end, in nanoseconds.
    public var end: UInt64
    /// Percent of one core: core-seconds used per wall-second × 100 (two busy cores read 200).
    public var percent: Double

    /// Length of the interval in seconds.
    public var seconds: Double { Double(end - start) / 1e9 }
}

/// A series of CPU samples for a worker's whole process tree, turned into per-interval CPU percent.
///
/// Each sample is (time in ns, cumulative CPU ticks of the tree, clock ticks per second). The
/// percent for an interval is `Δticks / ticksPerSecond / Δseconds × 100`.
///
/// - The first sample after `init` or `reset()` (a (re)spawn) only sets the baseline: its tick
///   count covers an unknown span, so it yields no interval.
/// - A sample whose time does not advance is ignored; a sample whose tick count goes backwards
///   (part of the tree exited and took its ticks along) becomes a new baseline, leaving a gap.
/// - Intervals older than `retentionSeconds` before the newest sample are dropped.
///
/// All trailing-window queries are relative to the newest sample's time.
public struct CPUSeries: Sendable {
    private struct Sample: Sendable { var at: UInt64; var ticks: UInt64 }

    /// How long intervals are kept, in seconds.
    public let retentionSeconds: Double
    private var baseline: Sample?
    /// Recorded intervals, oldest first. Consecutive intervals share an endpoint unless a gap occurred.
    public private(set) var intervals: [CPUInterval] = []

    /// An empty series keeping `retentionSeconds` of history (default 300).
    public init(retentionSeconds: Double = 300) {
        self.retentionSeconds = retentionSeconds.isFinite ? max(1, retentionSeconds) : 300
    }

    /// Adds a sample taken at `time` (ns) showing `ticks` cumulative CPU ticks for the tree.
    public mutating func record(at time: UInt64, ticks: UInt64, ticksPerSecond: UInt64) {
        guard ticksPerSecond > 0 else { return }
        let sample = Sample(at: time, ticks: ticks)
        guard let previous = baseline else {
            baseline = sample
            return
        }
        guard time > previous.at else { return }
        baseline = sample
        guard ticks >= previous.ticks else { return }
        let seconds = Double(time - previous.at) / 1e9
        let coreSeconds = Double(ticks - previous.ticks) / Double(ticksPerSecond)
        intervals.append(CPUInterval(start: previous.at, end: time, percent: coreSeconds / seconds * 100))
        let horizon = Double(time) - retentionSeconds * 1e9
        if let firstKept = intervals.firstIndex(where: { Double($0.end) > horizon }), firstKept > 0 {
            intervals.removeFirst(firstKept)
        }
    }

    /// Forgets every sample; the next sample is a baseline. Call when the worker (re)spawns.
    public mutating func reset() {
        baseline = nil
        intervals = []
    }

    /// Percent of the newest interval, or nil if there is none.
    public var latestPercent: Double? { intervals.last?.percent }

    /// Time of the newest interval's end, or nil.
    public var latestTime: UInt64? { intervals.last?.end }

    /// Length in seconds of the unbroken run of newest intervals that are all at or above
    /// `threshold` percent (0 if the newest interval is below it or there is none).
    public func sustainedSeconds(atLeast threshold: Double) -> Double {
        guard let last = intervals.last else { return 0 }
        var start = last.end
        for interval in intervals.reversed() {
            guard interval.end == start, interval.percent >= threshold else { break }
            start = interval.start
        }
        return Double(last.end - start) / 1e9
    }

    /// True when every interval in the trailing `seconds` is at or above `threshold` percent and
    /// those intervals cover at least `seconds` without a gap.
    public func isSustained(atLeast threshold: Double, forSeconds seconds: Double) -> Bool {
        !intervals.isEmpty && sustainedSeconds(atLeast: threshold) >= seconds
    }

    /// Highest interval percent among intervals overlapping the trailing `seconds`, or nil.
    public func peak(overSeconds seconds: Double) -> Double? {
        trailing(seconds).map { $0.0.percent }.max()
    }

    /// Time-weighted mean percent over the part of the trailing `seconds` that intervals cover, or nil.
    public func mean(overSeconds seconds: Double) -> Double? {
        var weighted = 0.0
        var covered = 0.0
        for (interval, overlap) in trailing(seconds) {
            weighted += interval.percent * overlap
            covered += overlap
        }
        return covered > 0 ? weighted / covered : nil
    }

    /// Intervals overlapping the trailing window, each with its overlap in seconds.
    private func trailing(_ seconds: Double) -> [(CPUInterval, Double)] {
        guard let last = intervals.last, seconds > 0 else { return [] }
        let windowStart = Double(last.end) - seconds * 1e9
        var result: [(CPUInterval, Double)] = []
        for interval in intervals.reversed() {
            guard Double(interval.end) > windowStart else { break }
            let overlap = (Double(interval.end) - max(Double(interval.start), windowStart)) / 1e9
            result.append((interval, overlap))
        }
        return result
    }
}
