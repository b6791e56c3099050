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
    public static func detect(in shapes: [String], maxPeriod: Int = 16, minRepetitions: Int = 3) -> OutputCycle? {
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

/// The text signals of a run of output lines. *Structured* lines (tables, fenced code, heterogeneous
/// JSON records; see `StructureClassifier`) are **exempt**: they are left out of the repetition
/// ratio, the cycle search, the entropy and the distinct-line ratio (numerator and denominator
/// alike), and are only counted in `structuredFraction`. So are *progress* lines: lines of a shape whose
/// counter toward a fixed total (`chunk 17/160`) advances over the run and never goes back (see
/// `ProgressCounter`); they are counted in `progressCount`.
public struct OutputSignals: Sendable, Equatable {
    /// Lines examined, structured or not.
    public var lineCount: Int
    /// Lines examined that are neither structured nor progress; the population for every other ratio.
    public var unstructuredCount: Int
    /// Lines exempt as progress (a counter advancing toward a fixed total).
    public var progressCount: Int
    /// Fraction of unstructured lines whose shape already occurred earlier among the examined lines
    /// (0 when there are none). 200 copies of one line score 199/200.
    public var repetitionRatio: Double
    /// Distinct shapes divided by unstructured lines (1 when there are none).
    public var distinctLineRatio: Double
    /// Shannon entropy of the concatenated unstructured shapes (line breaks not included), in bits
    /// per character (Unicode scalar). 0 when there are none.
    public var entropyBitsPerChar: Double
    /// Structured lines divided by all examined lines (0 when there are none).
    public var structuredFraction: Double
    /// The periodic tail of the unstructured shapes, if any.
    public var cycle: OutputCycle?

    /// Signals over `lines` (oldest first), each a normalized shape and whether it is structured.
    public init(lines: [(shape: String, structured: Bool)], maxCyclePeriod: Int = 16) {
        self.init(lines: lines.map { (shape: $0.shape, structured: $0.structured, progress: nil) }, maxCyclePeriod: maxCyclePeriod)
    }

    /// Signals over `lines` (oldest first): normalized shape, whether structured, and the line's counter.
    public init(lines: [(shape: String, structured: Bool, progress: ProgressCounter?)], maxCyclePeriod: Int = 16) {
        var progress = ProgressShapes()
        for line in lines where !line.structured { progress.add(shape: line.shape, counter: line.progress) }
        var seen: Set<String> = []
        var repeats = 0
        var shapes: [String] = []
        var entropy = ShannonEntropy()
        var structured = 0
        var progressLines = 0
        for line in lines {
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
        }
        lineCount = lines.count
        unstructuredCount = shapes.count
        progressCount = progressLines
        structuredFraction = lines.isEmpty ? 0 : Double(structured) / Double(lines.count)
        if shapes.isEmpty {
            repetitionRatio = 0
            distinctLineRatio = 1
        } else {
            repetitionRatio = Double(repeats) / Double(shapes.count)
            distinctLineRatio = Double(seen.count) / Double(shapes.count)
        }
        entropyBitsPerChar = entropy.bitsPerChar
        cycle = OutputCycle.detect(in: shapes, maxPeriod: maxCyclePeriod)
    }
}
