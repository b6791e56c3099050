// FlowForge — the outcome of one runaway evaluation.
// SPDX-License-Identifier: Apache-2.0

/// The detector's judgement of a worker at one instant, with the evidence behind it.
public struct Verdict: Sendable, Equatable {
    /// What kind of runaway was found, or `.healthy`.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// Busy CPU while the output repeats itself: the same records with the same values, or a retry loop.
        case repetitiveOutput
        /// Busy CPU while the output loops through the same sequence of 2...16 records.
        case cycle
        /// Busy CPU with no output and no I/O for the silence window.
        case silentSpin
        /// No output, next to no CPU and no I/O for the stall timeout: deadlocked or waiting for ever.
        case stalled
        /// The tree's memory above `--max-memory` for the sustain time.
        case memory
        /// The worker missed its sd_notify watchdog (no WATCHDOG=1 within the timeout) or sent WATCHDOG=trigger.
        case watchdog
        /// Not a runaway (including suspected cases whose confidence fell short).
        case healthy
    }

    /// True only when a runaway rule holds and `confidence >= minConfidence`.
    public var isRunaway: Bool
    /// Confidence that the worker is a runaway, 0...1 (0 when no rule holds).
    public var confidence: Double
    /// Human-readable evidence: each signal with its value and threshold, then the confidence.
    public var reason: String
    /// Mean CPU percent (of one core) over the sustained run, or over the sustain window if none.
    public var cpuPercent: Double
    /// Seconds CPU has stayed at or above `maxCPU` without interruption.
    public var sustainedSeconds: Double
    /// Entropy of the examined output, bits per character.
    public var entropy: Double
    /// Repetition ratio of the examined output, 0...1.
    public var repetition: Double
    /// The cycle found in the examined output, if any.
    public var cycle: OutputCycle?
    /// Seconds since output was last seen.
    public var silenceSeconds: Double
    /// The runaway kind, `.healthy` unless `isRunaway`.
    public var kind: Kind
    /// Records in a row that repeated something already said (the sameness evidence).
    public var repeatingRecords: Int
    /// A record from the evidence (the repeated one, or the newest judged), for the incident.
    public var example: String?

    /// A verdict with every field given.
    public init(isRunaway: Bool, confidence: Double, reason: String, cpuPercent: Double, sustainedSeconds: Double,
                entropy: Double, repetition: Double, cycle: OutputCycle?, silenceSeconds: Double, kind: Kind,
                repeatingRecords: Int = 0, example: String? = nil) {
        self.isRunaway = isRunaway
        self.confidence = confidence
        self.reason = reason
        self.cpuPercent = cpuPercent
        self.sustainedSeconds = sustainedSeconds
        self.entropy = entropy
        self.repetition = repetition
        self.cycle = cycle
        self.silenceSeconds = silenceSeconds
        self.kind = kind
        self.repeatingRecords = repeatingRecords
        self.example = example
    }

    /// A verdict of a limit the operator set (memory, an OOM kill, the watchdog): a runaway with confidence 1,
    /// keeping the output scores (`entropy`, `repetition`, `silenceSeconds`) of `scores`, the text rules'
    /// verdict of the same moment, when there is one.
    static func limit(_ kind: Kind, reason: String, cpuPercent: Double, sustainedSeconds: Double = 0, scores: Verdict?) -> Verdict {
        Verdict(isRunaway: true, confidence: 1, reason: reason, cpuPercent: cpuPercent, sustainedSeconds: sustainedSeconds,
                entropy: scores?.entropy ?? 0, repetition: scores?.repetition ?? 0, cycle: nil,
                silenceSeconds: scores?.silenceSeconds ?? 0, kind: kind)
    }
}
