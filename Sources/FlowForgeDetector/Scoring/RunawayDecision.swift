// FlowForge — combines CPU and output signals into a runaway verdict with a confidence.
// SPDX-License-Identifier: Apache-2.0

/// Decides whether a worker is a runaway from its `CPUSeries` and `OutputWindow`.
///
/// **Rules.** Let *sustained* be how long CPU has stayed at or above `maxCPU` without interruption.
/// The text signals are computed over the lines printed since that high-CPU run began (over the
/// whole window when CPU is not sustained), and only count with at least `minLines` unstructured lines.
/// A runaway needs `sustained >= sustainSeconds` and one of:
/// - repetition ratio `>= repetitionThreshold`;
/// - a cycle whose tail explains `>= repetitionThreshold` of the lines;
/// - entropy `< entropyHealthyBitsPerChar`;
/// or, on its own, the silence rule: no output for `silenceSeconds` and `sustained >= silenceSeconds`.
///
/// **Confidence.** With `clamp` to 0...1, each holding signal gets an *excess* in 0...1, how far it
/// is past its threshold:
/// - repetition / cycle: `clamp((value − threshold) / (1 − threshold))`;
/// - entropy: `clamp((healthy − entropy) / healthy)`;
/// - silence: `clamp((silence − silenceSeconds) / silenceSeconds)`;
/// - CPU: `0.5·clamp((cpu − maxCPU) / 15) + 0.5·clamp((sustained − sustainSeconds) / sustainSeconds)`,
///   where `cpu` is the mean over the sustained run (15 percentage points over the threshold, or
///   twice the sustain time, saturate).
///
/// `confidence = 0.75 + 0.125·cpuExcess + 0.125·outputExcess`, with `outputExcess` the largest
/// excess among the holding output signals. A case exactly at every threshold scores 0.75, a case
/// far past all of them 1.0; with the default `minConfidence` of 0.8 the two excesses must add up
/// to at least 0.4. When no rule holds the confidence is 0. `isRunaway` requires
/// `confidence >= minConfidence`.
///
/// **Kind.** Silent spin takes precedence (it describes the worker's current state), then a cycle of
/// period ≥ 2, then repetition (including period-1 cycles and low entropy).
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

    /// The verdict at `now` (ns, same clock as the samples and lines).
    public func evaluate(cpu: CPUSeries, output: OutputWindow, now: UInt64) -> Verdict {
        let t = thresholds
        let sustained = cpu.sustainedSeconds(atLeast: t.maxCPU)
        let cpuHeld = sustained > 0 && sustained >= t.sustainSeconds
        let cpuPercent = cpu.mean(overSeconds: sustained > 0 ? sustained : t.sustainSeconds) ?? 0
        var since: UInt64 = 0
        if cpuHeld, let end = cpu.latestTime {
            let span = UInt64(sustained * 1e9)
            since = end > span ? end - span : 0
        }
        let signals = output.signals(since: since)
        let silence = output.silenceSeconds(at: now)

        let enoughLines = signals.unstructuredCount >= max(1, t.minLines)
        let explained = signals.cycle?.explainedFraction ?? 0
        let repetitionHit = enoughLines && signals.repetitionRatio >= t.repetitionThreshold
        let cycleHit = enoughLines && explained >= t.repetitionThreshold && (signals.cycle?.period ?? 0) >= 2
        let entropyHit = enoughLines && signals.entropyBitsPerChar < t.entropyHealthyBitsPerChar
        let silentHit = silence >= t.silenceSeconds && sustained >= t.silenceSeconds

        var outputExcess = 0.0
        if repetitionHit { outputExcess = max(outputExcess, ratioExcess(max(signals.repetitionRatio, explained))) }
        if cycleHit { outputExcess = max(outputExcess, ratioExcess(explained)) }
        if entropyHit {
            let healthy = t.entropyHealthyBitsPerChar
            outputExcess = max(outputExcess, clamp((healthy - signals.entropyBitsPerChar) / healthy))
        }
        if silentHit {
            outputExcess = max(outputExcess, clamp((silence - t.silenceSeconds) / t.silenceSeconds))
        }
        let candidate: Verdict.Kind
        if cpuHeld && silentHit {
            candidate = .silentSpin
        } else if cpuHeld && cycleHit {
            candidate = .cycle
        } else if cpuHeld && (repetitionHit || entropyHit) {
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
        let reason = VerdictReason.text(
            candidate: candidate, isRunaway: isRunaway, confidence: confidence, thresholds: t,
            cpuPercent: cpuPercent, sustained: sustained, hasCPU: !cpu.intervals.isEmpty,
            signals: signals, silence: silence, silentHit: silentHit)
        return Verdict(isRunaway: isRunaway, confidence: confidence, reason: reason, cpuPercent: cpuPercent,
                       sustainedSeconds: sustained, entropy: signals.entropyBitsPerChar,
                       repetition: signals.repetitionRatio, cycle: signals.cycle, silenceSeconds: silence, kind: kind)
    }

    private func ratioExcess(_ value: Double) -> Double {
        let threshold = thresholds.repetitionThreshold
        guard threshold < 1 else { return 1 }
        return clamp((value - threshold) / (1 - threshold))
    }
}

private func clamp(_ x: Double) -> Double {
    x.isNaN ? 0 : min(1, max(0, x))
}
