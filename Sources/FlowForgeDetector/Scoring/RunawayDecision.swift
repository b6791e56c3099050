// FlowForge — combines CPU, output and activity signals into a runaway verdict with a confidence.
// SPDX-License-Identifier: Apache-2.0

/// Decides whether a worker is a runaway from its `CPUSeries`, `OutputWindow` and `ActivitySeries`.
///
/// A runaway burns CPU **and** shows the evidence a stuck loop leaves. Healthy software logs templates all
/// day (`processed job 3f9a… in 81ms`), so a repeated template is not that evidence; repeated *values* are.
///
/// **Rules.** Let *sustained* be how long CPU has stayed at or above `maxCPU` without interruption. A
/// runaway needs `sustained >= sustainSeconds` and one of:
/// - **sameness**: the output has said nothing new for a while: at least `max(minLines, rate × sustain)`
///   records in a row (rate: records per second over the last 30 s) and at least `sustain / 2` seconds
///   repeated identities already seen (`NoveltyTracker`: the template plus every value but timestamps,
///   durations, counters and request/trace ids), the newest of them printed within the last `sustain`
///   seconds — unless those records report completed work and no failure (`Vocabulary`);
/// - **retry loop**: over the records of the last `sustain` seconds (at least `minLines`), the template
///   repetition ratio and the share of records asking to retry (`retrying`, `reconnecting`, `again`) are
///   both `>= repetitionThreshold`, or a cycle of templates explains that share and one of its records asks
///   to retry, whatever ids change between attempts;
/// - **silent spin**: no output for `silenceSeconds`, `sustained >= silenceSeconds`, and the tree made
///   almost no read/write calls, moved almost no bytes and did not block over that time
///   (`ActivitySeries.isQuiet`; when activity cannot be read, silence alone decides).
///
/// **Confidence.** `0.75 + 0.125·cpuExcess + 0.125·outputExcess`, each excess in 0...1:
/// - CPU: `0.5·clamp((cpu − maxCPU) / 15) + 0.5·clamp((sustained − sustain) / sustain)`, `cpu` the mean
///   over the sustained run;
/// - sameness: `0.5·clamp(repeats / needed − 1)`, plus 0.25 when the repeated records report a failure or
///   a retry, plus 0.25 when their entropy is below `entropyHealthyBitsPerChar`;
/// - retry loop: `0.5·excess(retry share) + 0.5·excess(repetition or cycle share)`, with
///   `excess(x) = clamp((x − threshold) / (1 − threshold))`;
/// - silent spin: `clamp((silence − silenceSeconds) / silenceSeconds)`, plus 0.5 when the tree's activity
///   confirms it (capped at 1).
/// A case exactly at every threshold scores 0.75, below the default `minConfidence` of 0.8: FlowForge acts
/// only with some margin. `isRunaway` requires `confidence >= minConfidence`.
///
/// **Kind.** Silent spin takes precedence, then a cycle (sameness over a repeating sequence of 2...16
/// distinct records), then repetitive output.
public struct RunawayDecision: Sendable {
    /// Validated thresholds.
    public let thresholds: DetectionThresholds
    /// CPU cores available to the worker; bounds `maxCPU`.
    public let cores: Int

    /// A decision procedure; throws if `thresholds` fail `validate(cores:)`.
    public init(thresholds: DetectionThresholds = DetectionThresholds(), cores: Int) throws(DetectionThresholdsError) {
        try thresholds.validate(cores: cores)
        self.thresholds = thresholds
        self.cores = cores
    }

    /// The verdict at `now` (ns, same clock as the samples and records).
    public func evaluate(cpu: CPUSeries, output: OutputWindow, activity: ActivitySeries = ActivitySeries(),
                         now: UInt64) -> Verdict {
        let t = thresholds
        let sustained = cpu.sustainedSeconds(atLeast: t.maxCPU)
        let cpuHeld = sustained > 0 && sustained >= t.sustainSeconds
        let cpuPercent = cpu.mean(overSeconds: sustained > 0 ? sustained : t.sustainSeconds) ?? 0
        let minLines = max(1, t.minLines)
        let sustainNanos = UInt64(t.sustainSeconds * 1e9)

        // The records judged for template signals: those of the last `sustain` seconds of the high-CPU run
        // (or of the last `sustain` seconds when CPU is not held), at least `minLines` of them when the run has.
        var since: UInt64 = now > sustainNanos ? now - sustainNanos : 0
        var runStart: UInt64 = 0
        if cpuHeld, let end = cpu.latestTime {
            let span = UInt64(sustained * 1e9)
            runStart = end > span ? end - span : 0
            since = max(since, runStart)
        }
        let entries = output.entries
        var signals = OutputSignals(entries: entries.filter { $0.at >= since })
        if signals.unstructuredCount < minLines {
            let older = entries.filter { $0.at >= runStart }
            let unstructured = older.filter { !$0.structured }
            if unstructured.count > signals.unstructuredCount {
                let from = unstructured.suffix(minLines).first?.at ?? since
                signals = OutputSignals(entries: older.filter { $0.at >= from })
            }
        }

        let loop = LoopEvidence(output: output, entries: entries, thresholds: t, now: now)
        let silence = output.silenceSeconds(at: now)
        if let stalled = stall(cpu: cpu, activity: activity, silence: silence, signals: signals) { return stalled }
        let quietTree = activity.isQuiet(overSeconds: t.silenceSeconds)
        let enoughLines = signals.unstructuredCount >= minLines
        let sameHit = loop.holds
        let cycleShare = signals.cycle?.explainedFraction ?? 0
        let retryHit = enoughLines && (
            (signals.repetitionRatio >= t.repetitionThreshold && signals.retryFraction >= t.repetitionThreshold)
                || (cycleShare >= t.repetitionThreshold && signals.cycleSaysRetry))
        let silentHit = silence >= t.silenceSeconds && sustained >= t.silenceSeconds && quietTree != false

        var outputExcess = 0.0
        if sameHit {
            var excess = 0.5 * clamp(Double(loop.repeats) / Double(max(1, loop.needed)) - 1)
            if loop.saysFailure { excess += 0.25 }
            if loop.entropy < t.entropyHealthyBitsPerChar { excess += 0.25 }
            outputExcess = max(outputExcess, excess)
        }
        if retryHit {
            let share = max(signals.retryFraction, signals.cycleSaysRetry ? cycleShare : 0)
            outputExcess = max(outputExcess, 0.5 * ratioExcess(share) + 0.5 * ratioExcess(max(signals.repetitionRatio, cycleShare)))
        }
        if silentHit {
            let beyond = clamp((silence - t.silenceSeconds) / t.silenceSeconds)
            outputExcess = max(outputExcess, min(1, beyond + (quietTree == true ? 0.5 : 0)))
        }
        let candidate: Verdict.Kind
        if cpuHeld && silentHit {
            candidate = .silentSpin
        } else if cpuHeld && ((sameHit && loop.period >= 2) || (!sameHit && retryHit && (signals.cycle?.period ?? 0) >= 2)) {
            candidate = .cycle
        } else if cpuHeld && (sameHit || retryHit) {
            candidate = .repetitiveOutput
        } else {
            candidate = .healthy
        }
        var confidence = 0.0
        if candidate != .healthy {
            let cpuExcess = 0.5 * clamp((cpuPercent - t.maxCPU) / 15)
                + 0.5 * clamp((sustained - t.sustainSeconds) / t.sustainSeconds)
            confidence = clamp(0.75 + 0.125 * cpuExcess + 0.125 * outputExcess)
        }
        let isRunaway = candidate != .healthy && confidence >= t.minConfidence
        let kind: Verdict.Kind = isRunaway ? candidate : .healthy
        let reason = VerdictReason(
            candidate: candidate, isRunaway: isRunaway, confidence: confidence, thresholds: t,
            cpuPercent: cpuPercent, sustained: sustained, hasCPU: !cpu.intervals.isEmpty, signals: signals,
            loop: loop, retryHit: retryHit, silence: silence, silentHit: silentHit, quietTree: quietTree,
            activity: activity.rates(overSeconds: t.silenceSeconds)
        ).text
        return Verdict(isRunaway: isRunaway, confidence: confidence, reason: reason, cpuPercent: cpuPercent,
                       sustainedSeconds: sustained, entropy: signals.entropyBitsPerChar,
                       repetition: signals.repetitionRatio, cycle: signals.cycle, silenceSeconds: silence, kind: kind,
                       repeatingRecords: loop.repeats, example: loop.example ?? signals.example)
    }

    /// CPU (percent of one core, mean over the stall timeout) under which a silent, I/O-less tree is stalled.
    public static let stallCPUPercent = 2.0

    /// The stall rule (`stallSeconds > 0`): no output for the stall timeout, the tree's CPU over that time under
    /// `stallCPUPercent`, and no I/O over it (or no reading: the rule then acts on silence and CPU alone and
    /// says so). A worker printing a heartbeat while it waits is not stalled; a deadlock is. Its own verdict,
    /// with confidence 1: a timeout the operator chose, not an inference.
    private func stall(cpu: CPUSeries, activity: ActivitySeries, silence: Double, signals: OutputSignals) -> Verdict? {
        let t = thresholds
        guard t.stallSeconds > 0, silence >= t.stallSeconds, let busy = cpu.mean(overSeconds: t.stallSeconds),
              busy < Self.stallCPUPercent else { return nil }
        let quiet = activity.isQuiet(overSeconds: t.stallSeconds)
        guard quiet != false else { return nil }
        var io = "I/O unknown"
        if let r = activity.rates(overSeconds: t.stallSeconds) {
            io = "I/O \(FixedDecimal.format(r.syscalls, digits: 1)) calls/s, \(FixedDecimal.format(r.bytes, digits: 0)) B/s, "
                + "\(FixedDecimal.format(r.switches, digits: 1)) switches/s (quiet)"
        }
        let reason = "stalled: no output for \(VerdictReason.seconds(silence)) (stall timeout \(VerdictReason.seconds(t.stallSeconds))); "
            + "CPU \(FixedDecimal.format(busy, digits: 1))% (under \(FixedDecimal.format(Self.stallCPUPercent, digits: 0))%); \(io); confidence 1.00"
        return Verdict(isRunaway: true, confidence: 1, reason: reason, cpuPercent: busy, sustainedSeconds: 0,
                       entropy: signals.entropyBitsPerChar, repetition: signals.repetitionRatio, cycle: nil,
                       silenceSeconds: silence, kind: .stalled)
    }

    private func ratioExcess(_ value: Double) -> Double {
        let threshold = thresholds.repetitionThreshold
        guard threshold < 1 else { return 1 }
        return clamp((value - threshold) / (1 - threshold))
    }
}

/// What the repeating stretch of output (the records since the last new one) shows.
struct LoopEvidence {
    /// Records in a row that repeated an identity already seen.
    var repeats: Int
    /// How many were needed: `max(minLines, rate × sustain)`.
    var needed: Int
    /// Seconds from the last new record to the newest record.
    var quietSeconds: Double
    /// Distinct identities among the repeated records (up to the window's capacity of them).
    var distinct: Int
    /// The period of the repeating sequence of identities (0 when there is none).
    var period: Int
    var saysFailure: Bool
    var saysCompletionOnly: Bool
    var saysProgress: Bool
    var entropy: Double
    var example: String?
    /// The template of `example` (for JSON: its canonical fields).
    var shape: String?
    var holds: Bool

    init(output: OutputWindow, entries: [OutputWindow.Entry], thresholds t: DetectionThresholds, now: UInt64) {
        let stretch = output.repeatingStretch(of: entries)
        repeats = output.repeatsSinceNovel
        let rate = output.recordRate(at: now, overSeconds: 30)
        needed = max(max(1, t.minLines), Int((rate * t.sustainSeconds).rounded(.up)))
        if let last = output.lastLineAt, let novel = output.lastNovelAt, last > novel {
            quietSeconds = Double(last - novel) / 1e9
        } else {
            quietSeconds = 0
        }
        distinct = Set(stretch.map(\.identity)).count
        period = OutputCycle.detect(in: stretch.map(\.identity), maxPeriod: 16)?.period ?? 0
        let n = max(1, stretch.count)
        let failures = stretch.filter { !$0.vocabulary.isDisjoint(with: [.failure, .retry]) }.count
        let completions = stretch.filter { $0.vocabulary.contains(.completion) }.count
        saysFailure = failures > 0
        saysCompletionOnly = failures == 0 && Double(completions) / Double(n) >= 0.5
        // A counter advancing toward a fixed total (`processing 17/160`) is progress even when nothing else
        // on the line changes; a retry counter that keeps starting over is not (`ProgressShapes`).
        var progress = ProgressShapes()
        for entry in stretch { progress.add(shape: entry.shape, counter: entry.progress) }
        let progressing = stretch.filter { progress.isProgress($0.shape) }.count
        saysProgress = Double(progressing) / Double(n) >= 0.5
        var entropy = ShannonEntropy()
        for entry in stretch { entropy.add(entry.shape) }
        self.entropy = entropy.bitsPerChar
        example = stretch.last?.text
        shape = stretch.last?.shape
        let sustainNanos = UInt64(t.sustainSeconds * 1e9)
        let recent = (output.lastLineAt ?? 0) &+ sustainNanos >= now
        holds = repeats >= needed && quietSeconds >= t.sustainSeconds / 2 && recent && !saysCompletionOnly && !saysProgress
    }
}

func clamp(_ x: Double) -> Double {
    x.isNaN ? 0 : min(1, max(0, x))
}
