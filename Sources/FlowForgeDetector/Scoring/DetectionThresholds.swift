// FlowForge — the tunable thresholds of runaway detection, with validation.
// SPDX-License-Identifier: Apache-2.0

/// Why a `DetectionThresholds` value was rejected. `description` is a complete sentence naming the
/// field and the offending value.
public enum DetectionThresholdsError: Error, Equatable, CustomStringConvertible {
    /// The field is NaN or infinite.
    case notFinite(field: String)
    /// The field is below zero.
    case negative(field: String, value: Double)
    /// The field must be strictly positive but is zero.
    case notPositive(field: String)
    /// The field is a ratio and must lie in 0...1.
    case outsideUnitRange(field: String, value: Double)
    /// `maxCPU` can never be reached with `cores` cores (capacity `cores × 100`).
    case cpuAboveCapacity(maxCPU: Double, cores: Int)
    /// The core count passed to `validate` is not at least 1.
    case invalidCoreCount(Int)

    public var description: String {
        switch self {
        case .notFinite(let field):
            return "detection threshold \(field) must be a finite number"
        case .negative(let field, let value):
            return "detection threshold \(field) must not be negative (got \(FixedDecimal.format(value, digits: 2)))"
        case .notPositive(let field):
            return "detection threshold \(field) must be greater than zero"
        case .outsideUnitRange(let field, let value):
            return "detection threshold \(field) must be between 0 and 1 (got \(FixedDecimal.format(value, digits: 2)))"
        case .cpuAboveCapacity(let maxCPU, let cores):
            return "detection threshold maxCPU \(FixedDecimal.format(maxCPU, digits: 1))% exceeds the capacity of "
                + "\(cores) core\(cores == 1 ? "" : "s") (\(cores * 100)%)"
        case .invalidCoreCount(let cores):
            return "core count must be at least 1 (got \(cores))"
        }
    }
}

/// The thresholds runaway detection compares against. CPU figures are percent of one core
/// (a tree saturating two cores reads 200); times are seconds.
public struct DetectionThresholds: Sendable, Equatable {
    /// CPU percent (of one core) at or above which the tree counts as busy. Default 85.
    public var maxCPU: Double
    /// How long CPU must stay at or above `maxCPU`, in seconds. Default 10.
    public var sustainSeconds: Double
    /// Minimum confidence (0...1) for a verdict to be a runaway. Default 0.8.
    public var minConfidence: Double
    /// Repetition ratio (and cycle coverage) at or above which output counts as looping, 0...1. Default 0.8.
    public var repetitionThreshold: Double
    /// Entropy in bits per character below which output counts as degenerate. Default 2.5.
    public var entropyHealthyBitsPerChar: Double
    /// Unstructured lines needed before the text signals are trusted. Default 20.
    public var minLines: Int
    /// Seconds without any output after which a busy worker counts as a silent spin. Default 30.
    public var silenceSeconds: Double
    /// Seconds with no output, CPU under `RunawayDecision.stallCPUPercent` and no I/O after which a worker is
    /// stalled (deadlocked, waiting for ever). 0, the default, switches the rule off.
    public var stallSeconds: Double
    /// Bytes of memory the tree may hold; above it for `sustainSeconds` is an incident. 0, the default: off.
    public var maxMemoryBytes: Double

    /// Thresholds with the documented defaults, overridable per field.
    public init(maxCPU: Double = 85, sustainSeconds: Double = 10, minConfidence: Double = 0.8,
                repetitionThreshold: Double = 0.8, entropyHealthyBitsPerChar: Double = 2.5,
                minLines: Int = 20, silenceSeconds: Double = 30, stallSeconds: Double = 0,
                maxMemoryBytes: Double = 0) {
        self.maxCPU = maxCPU
        self.sustainSeconds = sustainSeconds
        self.minConfidence = minConfidence
        self.repetitionThreshold = repetitionThreshold
        self.entropyHealthyBitsPerChar = entropyHealthyBitsPerChar
        self.minLines = minLines
        self.silenceSeconds = silenceSeconds
        self.stallSeconds = stallSeconds
        self.maxMemoryBytes = maxMemoryBytes
    }

    /// Throws the first problem found: non-finite or negative values, zero `maxCPU`,
    /// `sustainSeconds` or `silenceSeconds`, ratios outside 0...1, or `maxCPU` above `cores × 100`.
    public func validate(cores: Int) throws(DetectionThresholdsError) {
        guard cores >= 1 else { throw .invalidCoreCount(cores) }
        let numeric: [(String, Double)] = [
            ("maxCPU", maxCPU), ("sustainSeconds", sustainSeconds), ("minConfidence", minConfidence),
            ("repetitionThreshold", repetitionThreshold), ("entropyHealthyBitsPerChar", entropyHealthyBitsPerChar),
            ("minLines", Double(minLines)), ("silenceSeconds", silenceSeconds), ("stallSeconds", stallSeconds),
            ("maxMemoryBytes", maxMemoryBytes),
        ]
        for (field, value) in numeric {
            guard value.isFinite else { throw .notFinite(field: field) }
            guard value >= 0 else { throw .negative(field: field, value: value) }
        }
        for (field, value) in [("maxCPU", maxCPU), ("sustainSeconds", sustainSeconds), ("silenceSeconds", silenceSeconds)]
        where value == 0 {
            throw .notPositive(field: field)
        }
        for (field, value) in [("minConfidence", minConfidence), ("repetitionThreshold", repetitionThreshold)]
        where value > 1 {
            throw .outsideUnitRange(field: field, value: value)
        }
        guard maxCPU <= Double(cores) * 100 else { throw .cpuAboveCapacity(maxCPU: maxCPU, cores: cores) }
    }
}
