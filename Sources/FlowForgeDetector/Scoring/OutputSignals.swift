// FlowForge — text signals computed over a run of normalized output lines.
// SPDX-License-Identifier: Apache-2.0

/// A repeating cycle at the end of the output: the last `lineCount` unstructured lines repeat with
/// period `period` (at least three full periods).
public struct OutputCycle: Sendable, Equatable {
    /// Lines per cycle, 1...16. Period 1 means the same shape over and over.
    public var period: Int
    /// Number of whole periods in the repeating tail (≥ 3).
    public var repetitions: Int
    /// Length of the repeating tail, in lines.
    public var lineCount: Int
    /// `lineCount` divided by the number of unstructured lines examined, in 0...1.
    public var explainedFraction: Double

    /// The smallest period `p` in `1...maxPeriod` such that the tail of `shapes` is periodic with
    /// period `p` over at least `minRepetitions · p` lines, or nil.
    public static func detect<T: Equatable>(in shapes: [T], maxPeriod: Int = 16, minRepetitions: Int = 3) -> OutputCycle? {
        let n = shapes.count
        guard n > 0, maxPeriod >= 1, minRepetitions >= 2 else { return nil }
        for p in 1...maxPeriod where p * minRepetitions <= n {
            // Count how far back shapes[i] == shapes[i - p] holds, from the end.
            var i = n - 1
            while i >= p, shapes[i] == shapes[i - p] { i -= 1 }
            let tail = (n - 1 - i) + p
            if tail >= p * minRepetitions {
                return OutputCycle(period: p, repetitions: tail / p, lineCount: tail,
                                   explainedFraction: Double(tail) / Double(n))
            }
        }
        return nil
    }
}

/// The template signals of a run of output records. *Structured* records (tables, fenced code; see
/// `StructureClassifier`) are **exempt**: they are left out of the repetition ratio, the cycle search, the
/// entropy and the distinct-line ratio (numerator and denominator alike), and are only counted in
/// `structuredFraction`. So are *progress* records: records of a shape whose counter toward a fixed total
/// (`chunk 17/160`) advances over the run and never goes back (see `ProgressCounter`); they are counted in
/// `progressCount`. These signals compare templates; whether the records also repeat their *values* is
/// `OutputWindow`'s novelty tracking.
public struct OutputSignals: Sendable, Equatable {
    /// Records examined, structured or not.
    public var lineCount: Int
    /// Records examined that are neither structured nor progress; the population for every other ratio.
    public var unstructuredCount: Int
    /// Records exempt as progress (a counter advancing toward a fixed total).
    public var progressCount: Int
    /// Fraction of unstructured records whose shape already occurred earlier among the examined ones
    /// (0 when there are none). 200 copies of one line score 199/200.
    public var repetitionRatio: Double
    /// Distinct shapes divided by unstructured records (1 when there are none).
    public var distinctLineRatio: Double
    /// Shannon entropy of the concatenated unstructured shapes (line breaks not included), in bits
    /// per character (Unicode scalar). 0 when there are none.
    public var entropyBitsPerChar: Double
    /// Structured records divided by all examined records (0 when there are none).
    public var structuredFraction: Double
    /// The periodic tail of the unstructured shapes, if any.
    public var cycle: OutputCycle?
    /// Fraction of unstructured records whose text asks to retry (`Vocabulary.retry`).
    public var retryFraction: Double = 0
    /// Fraction of unstructured records that report a failure (`Vocabulary.failure`).
    public var failureFraction: Double = 0
    /// Fraction of unstructured records that report completed work (`Vocabulary.completion`).
    public var completionFraction: Double = 0
    /// Unstructured records whose identity was new.
    public var novelCount: Int = 0
    /// The text of the newest unstructured record, for reasons.
    public var example: String?
    /// The template of `example`.
    public var exampleShape: String?
    /// Whether one of the records of the periodic tail (`cycle`, one period of it) asks to retry.
    public var cycleSaysRetry = false

    /// Signals over `lines` (oldest first), each a normalized shape and whether it is structured.
    public init(lines: [(shape: String, structured: Bool)], maxCyclePeriod: Int = 16) {
        self.init(lines: lines.map { (shape: $0.shape, structured: $0.structured, progress: nil) }, maxCyclePeriod: maxCyclePeriod)
    }

    /// Signals over `lines` (oldest first): normalized shape, whether structured, and the line's counter.
    public init(lines: [(shape: String, structured: Bool, progress: ProgressCounter?)], maxCyclePeriod: Int = 16) {
        self.init(entries: lines.map { OutputWindow.Entry(shape: $0.shape, at: 0, structured: $0.structured, progress: $0.progress) },
                  maxCyclePeriod: maxCyclePeriod)
    }

    /// Signals over window entries, oldest first.
    public init(entries: [OutputWindow.Entry], maxCyclePeriod: Int = 16) {
        var progress = ProgressShapes()
        for line in entries where !line.structured { progress.add(shape: line.shape, counter: line.progress) }
        var seen: Set<String> = []
        var repeats = 0
        var shapes: [String] = []
        var entropy = ShannonEntropy()
        var structured = 0
        var progressLines = 0
        var retry = 0, failure = 0, completion = 0, novel = 0
        for line in entries {
            if line.structured {
                structured += 1
                continue
            }
            if progress.isProgress(line.shape) {
                progressLines += 1
                continue
            }
            if !seen.insert(line.shape).inserted { repeats += 1 }
            shapes.append(line.shape)
            entropy.add(line.shape)
            if line.vocabulary.contains(.retry) { retry += 1 }
            if line.vocabulary.contains(.failure) { failure += 1 }
            if line.vocabulary.contains(.completion) { completion += 1 }
            if line.novel { novel += 1 }
            if !line.text.isEmpty {
                example = line.text
                exampleShape = line.shape
            }
        }
        lineCount = entries.count
        unstructuredCount = shapes.count
        progressCount = progressLines
        structuredFraction = entries.isEmpty ? 0 : Double(structured) / Double(entries.count)
        if shapes.isEmpty {
            repetitionRatio = 0
            distinctLineRatio = 1
        } else {
            let n = Double(shapes.count)
            repetitionRatio = Double(repeats) / n
            distinctLineRatio = Double(seen.count) / n
            retryFraction = Double(retry) / n
            failureFraction = Double(failure) / n
            completionFraction = Double(completion) / n
        }
        novelCount = novel
        entropyBitsPerChar = entropy.bitsPerChar
        cycle = OutputCycle.detect(in: shapes, maxPeriod: maxCyclePeriod)
        if let cycle {
            let unstructured = entries.filter { !$0.structured && !progress.isProgress($0.shape) }
            cycleSaysRetry = unstructured.suffix(cycle.period).contains { $0.vocabulary.contains(.retry) }
        }
    }
}
