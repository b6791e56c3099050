// FlowForge — sliding window over the worker's most recent normalized output lines.
// SPDX-License-Identifier: Apache-2.0

/// The last `capacity` output lines (default 200), stored as normalized shapes with the time they
/// arrived and whether they are structured, plus the time output was last seen.
///
/// Signals (`repetitionRatio`, `cycle`, `entropyBitsPerChar`, `distinctLineRatio`,
/// `structuredFraction`) are computed on demand over the whole window, or over the lines since a
/// given time with `signals(since:)`; see `OutputSignals` for definitions and for how structured
/// lines are exempted. Times are nanoseconds on the caller's monotonic clock.
public struct OutputWindow: Sendable {
    /// One line held by the window.
    public struct Entry: Sendable, Equatable {
        /// The normalized shape of the line.
        public var shape: String
        /// When the line arrived, in nanoseconds.
        public var at: UInt64
        /// Whether `StructureClassifier` judged the line structured.
        public var structured: Bool
        /// The line's counter toward a fixed total (`17/160`), if it has one.
        public var progress: ProgressCounter? = nil
    }

    /// Default number of lines kept.
    public static let defaultCapacity = 200

    /// Maximum number of lines kept (at least 1).
    public let capacity: Int
    /// The normalizer applied to appended lines.
    public let normalizer: LineNormalizer
    private var ring: [Entry] = []
    private var oldest = 0
    private var classifier = StructureClassifier()
    /// Arrival time of the newest line, or nil if none arrived since the last reset.
    public private(set) var lastLineAt: UInt64?
    /// Newest of: the last line, the last `noteActivity(at:)`, the last reset.
    public private(set) var lastActivityAt: UInt64

    /// An empty window; `startedAt` is when the worker (re)started, the origin for silence.
    public init(capacity: Int = OutputWindow.defaultCapacity, normalizer: LineNormalizer = LineNormalizer(),
                startedAt: UInt64 = 0) {
        self.capacity = max(1, capacity)
        self.normalizer = normalizer
        self.lastActivityAt = startedAt
    }

    /// Classifies, normalizes and stores `line`, evicting the oldest line when full.
    public mutating func append(_ line: String, at time: UInt64) {
        let structured = classifier.isStructured(line)
        let entry = Entry(shape: normalizer.normalize(line), at: time, structured: structured,
                          progress: structured ? nil : ProgressCounter.find(in: line))
        if ring.count < capacity {
            ring.append(entry)
        } else {
            ring[oldest] = entry
            oldest = (oldest + 1) % capacity
        }
        lastLineAt = max(lastLineAt ?? 0, time)
        lastActivityAt = max(lastActivityAt, time)
    }

    /// Records that output bytes arrived at `time` without completing a line, so a worker printing
    /// a long unterminated line is not mistaken for a silent one.
    public mutating func noteActivity(at time: UInt64) {
        lastActivityAt = max(lastActivityAt, time)
    }

    /// Empties the window for a new worker generation started at `time`.
    public mutating func reset(at time: UInt64) {
        ring = []
        oldest = 0
        classifier.reset()
        lastLineAt = nil
        lastActivityAt = time
    }

    /// Number of lines currently held.
    public var lineCount: Int { ring.count }

    /// The held lines, oldest first.
    public var entries: [Entry] {
        Array(ring[oldest...] + ring[..<oldest])
    }

    /// Seconds since output was last seen (see `lastActivityAt`), 0 if `now` is earlier.
    public func silenceSeconds(at now: UInt64) -> Double {
        now > lastActivityAt ? Double(now - lastActivityAt) / 1e9 : 0
    }

    /// Signals over the held lines that arrived at or after `since` (all lines by default).
    public func signals(since: UInt64 = 0) -> OutputSignals {
        let lines = entries.lazy.filter { $0.at >= since }.map { (shape: $0.shape, structured: $0.structured, progress: $0.progress) }
        return OutputSignals(lines: Array(lines))
    }

    /// Fraction of unstructured lines whose shape occurred earlier in the window.
    public var repetitionRatio: Double { signals().repetitionRatio }
    /// The periodic tail of the window, if any (period 1...16, at least 3 repetitions).
    public var cycle: OutputCycle? { signals().cycle }
    /// Shannon entropy of the window's unstructured normalized text, in bits per character.
    public var entropyBitsPerChar: Double { signals().entropyBitsPerChar }
    /// Distinct shapes divided by unstructured lines.
    public var distinctLineRatio: Double { signals().distinctLineRatio }
    /// Structured lines divided by all lines in the window.
    public var structuredFraction: Double { signals().structuredFraction }
}
