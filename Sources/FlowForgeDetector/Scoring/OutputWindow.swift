// FlowForge — sliding window over the worker's most recent output records, with what is new in them.
// SPDX-License-Identifier: Apache-2.0

/// The last `capacity` output records (default 400; a record is a line, or a whole traceback, see
/// `RecordAssembler`), each stored as its normalized shape, its identity and whether that identity was new
/// (`NoveltyTracker`), what it says (`Vocabulary`), whether it is structured, and a sample of its text; plus
/// when the last new record came and how many records repeated old ones since.
///
/// Template signals (`repetitionRatio`, `cycle`, `entropyBitsPerChar`, `distinctLineRatio`,
/// `structuredFraction`) are computed on demand over the whole window or over the records since a time with
/// `signals(since:)`; see `OutputSignals`. Times are nanoseconds on the caller's monotonic clock.
public struct OutputWindow: Sendable {
    /// One record held by the window.
    public struct Entry: Sendable, Equatable {
        /// The normalized shape of the record (its template).
        public var shape: String
        /// When the record arrived, in nanoseconds.
        public var at: UInt64
        /// Whether `StructureClassifier` judged the record structured (tables, fenced code).
        public var structured: Bool
        /// The record's counter toward a fixed total (`17/160`), if it has one.
        public var progress: ProgressCounter? = nil
        /// The record's identity: its template and the values that mean something (`NoveltyTracker`).
        public var identity: Int = 0
        /// Whether the identity had not been seen before in this generation.
        public var novel: Bool = true
        /// What the record says.
        public var vocabulary: Vocabulary = []
        /// The record's text, cut to 160 bytes, for reasons.
        public var text: String = ""
        /// `progress` and `vocabulary` are still to be read from `text` (see `resolved()`).
        var unresolved = false

        /// The entry with `progress` and `vocabulary` read from its text. They are needed only for the few
        /// hundred records judged once a sample, not for each of thousands of lines a second, so `append`
        /// leaves them to this.
        func resolved() -> Entry {
            guard unresolved else { return self }
            var entry = self
            entry.unresolved = false
            entry.progress = ProgressCounter.find(in: text)
            entry.vocabulary = Vocabulary.of(text)
            return entry
        }
    }

    /// Default number of records kept.
    public static let defaultCapacity = 400

    /// Maximum number of records kept (at least 1).
    public let capacity: Int
    /// The normalizer applied to appended records.
    public let normalizer: LineNormalizer
    private var ring: [Entry] = []
    private var oldest = 0
    private var classifier = StructureClassifier()
    private var novelty = NoveltyTracker()
    private var checkpoints: [(at: UInt64, total: Int)] = []
    /// Arrival time of the newest record, or nil if none arrived since the last reset.
    public private(set) var lastLineAt: UInt64?
    /// Newest of: the last record, the last `noteActivity(at:)`, the last reset.
    public private(set) var lastActivityAt: UInt64
    /// Arrival time of the newest record whose identity was new (structured records do not count).
    public private(set) var lastNovelAt: UInt64?
    /// Unstructured records since the newest new one: how long the output has only repeated itself.
    public private(set) var repeatsSinceNovel = 0
    /// Unstructured records appended since the last reset.
    public private(set) var totalRecords = 0
    /// When the window was created or last reset: the worker generation's start.
    public private(set) var startedAt: UInt64

    /// An empty window; `startedAt` is when the worker (re)started, the origin for silence.
    public init(capacity: Int = OutputWindow.defaultCapacity, normalizer: LineNormalizer = LineNormalizer(),
                startedAt: UInt64 = 0) {
        self.capacity = max(1, capacity)
        self.normalizer = normalizer
        self.lastActivityAt = startedAt
        self.startedAt = startedAt
    }

    /// Classifies, normalizes and stores one record (a line, or a multi-line record joined with `\n`),
    /// evicting the oldest when full. A one-line JSON object is compared field by field (`JSONRecord`).
    public mutating func append(_ line: String, at time: UInt64) {
        let structured = classifier.isStructured(line)
        let canonical = structured ? nil : JSONRecord.canonical(line)
        let analyzed = normalizer.analyze(canonical ?? line)
        var entry = Entry(shape: analyzed.shape, at: time, structured: structured)
        entry.text = line.utf8Prefix(160)
        if !structured {
            entry.unresolved = true
            let seen = novelty.observe(analyzed)
            entry.identity = seen.identity
            entry.novel = seen.novel
            totalRecords += 1
            if entry.novel {
                lastNovelAt = time
                repeatsSinceNovel = 0
            } else {
                repeatsSinceNovel += 1
            }
            if let last = checkpoints.last, time < last.at &+ 1_000_000_000 {
                checkpoints[checkpoints.count - 1].total = totalRecords
            } else {
                checkpoints.append((time, totalRecords))
                if checkpoints.count > 64 { checkpoints.removeFirst(checkpoints.count - 64) }
            }
        }
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
        novelty.reset()
        checkpoints = []
        lastLineAt = nil
        lastNovelAt = nil
        repeatsSinceNovel = 0
        totalRecords = 0
        lastActivityAt = time
        startedAt = time
    }

    /// Number of records currently held.
    public var lineCount: Int { ring.count }

    /// The held records, oldest first.
    public var entries: [Entry] {
        (ring[oldest...] + ring[..<oldest]).map { $0.resolved() }
    }

    /// Seconds since output was last seen (see `lastActivityAt`), 0 if `now` is earlier.
    public func silenceSeconds(at now: UInt64) -> Double {
        now > lastActivityAt ? Double(now - lastActivityAt) / 1e9 : 0
    }

    /// Unstructured records per second over the last `seconds` (at most 60) before `now`, measured from the
    /// per-second arrival counts (a young generation: since it started, so block-buffered output arriving in
    /// bursts is not mistaken for a fast stream); 0 before any record.
    public func recordRate(at now: UInt64, overSeconds seconds: Double = 30) -> Double {
        guard !checkpoints.isEmpty else { return 0 }
        let span = UInt64(max(1, min(60, seconds)) * 1e9)
        let from = now > span ? now - span : 0
        let base = checkpoints.last(where: { $0.at < from })
        let before = base?.total ?? 0
        let start = base == nil ? max(from, startedAt) : from
        let elapsed = max(1, Double(now > start ? now - start : 0) / 1e9)
        return Double(totalRecords - before) / elapsed
    }

    /// The unstructured records since the newest new one (the repeating stretch), oldest first, at most
    /// the window's capacity.
    public var repeatingStretch: [Entry] { repeatingStretch(of: entries) }

    /// The repeating stretch out of `entries`, a snapshot of this window's (so one evaluation resolves the
    /// window's records once, not once per signal).
    func repeatingStretch(of entries: [Entry]) -> [Entry] {
        guard repeatsSinceNovel > 0 else { return [] }
        var out: [Entry] = []
        for entry in entries.reversed() where !entry.structured {
            if entry.novel { break }
            out.append(entry)
        }
        return out.reversed()
    }

    /// Signals over the held records that arrived at or after `since` (all records by default).
    public func signals(since: UInt64 = 0) -> OutputSignals {
        OutputSignals(entries: entries.filter { $0.at >= since })
    }

    /// Fraction of unstructured records whose shape occurred earlier in the window.
    public var repetitionRatio: Double { signals().repetitionRatio }
    /// The periodic tail of the window, if any (period 1...16, at least 3 repetitions).
    public var cycle: OutputCycle? { signals().cycle }
    /// Shannon entropy of the window's unstructured normalized text, in bits per character.
    public var entropyBitsPerChar: Double { signals().entropyBitsPerChar }
    /// Distinct shapes divided by unstructured records.
    public var distinctLineRatio: Double { signals().distinctLineRatio }
    /// Structured records divided by all records in the window.
    public var structuredFraction: Double { signals().structuredFraction }
}
