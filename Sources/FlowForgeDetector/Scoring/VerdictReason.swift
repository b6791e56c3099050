// FlowForge — renders a verdict's evidence as one human-readable line.
// SPDX-License-Identifier: Apache-2.0

/// Builds `Verdict.reason`: a prefix (`runaway (cycle):`, `healthy:`) then each signal with its
/// value and threshold, separated by `; `, ending with the confidence. Example:
/// `runaway (repetitive output): CPU 97% for 12.0s (>= 85%); 96% of the last 200 lines repeat after
/// normalization (threshold 80%); entropy 0.4 bits/char (healthy >= 2.5); confidence 0.93`.
enum VerdictReason {
    static func text(candidate: Verdict.Kind, isRunaway: Bool, confidence: Double, thresholds t: DetectionThresholds,
                     cpuPercent: Double, sustained: Double, hasCPU: Bool, signals: OutputSignals,
                     silence: Double, silentHit: Bool) -> String {
        var parts: [String] = []
        let maxCPU = FixedDecimal.format(t.maxCPU, digits: 0) + "%"
        let cpu = FixedDecimal.format(cpuPercent, digits: 0) + "%"
        if !hasCPU {
            parts.append("no CPU samples yet")
        } else if sustained >= t.sustainSeconds {
            parts.append("CPU \(cpu) for \(seconds(sustained)) (>= \(maxCPU))")
        } else if sustained > 0 {
            parts.append("CPU \(cpu) for \(seconds(sustained)) (>= \(maxCPU) needed for \(seconds(t.sustainSeconds)))")
        } else {
            parts.append("CPU \(cpu) (below \(maxCPU))")
        }

        let n = signals.unstructuredCount
        if n >= max(1, t.minLines) {
            let repetition = FixedDecimal.percent(signals.repetitionRatio)
            parts.append("\(repetition) of the last \(n) lines repeat after normalization"
                + " (threshold \(FixedDecimal.percent(t.repetitionThreshold)))")
            if let cycle = signals.cycle, cycle.period >= 2 {
                parts.append("a \(cycle.period)-line cycle repeats \(cycle.repetitions) times, explaining "
                    + "\(FixedDecimal.percent(cycle.explainedFraction)) (threshold \(FixedDecimal.percent(t.repetitionThreshold)))")
            }
            parts.append("entropy \(FixedDecimal.format(signals.entropyBitsPerChar, digits: 1)) bits/char"
                + " (healthy >= \(FixedDecimal.format(t.entropyHealthyBitsPerChar, digits: 1)))")
        } else {
            let kind = signals.lineCount > n ? "unstructured line" : "line"
            parts.append("\(n) \(kind)\(n == 1 ? "" : "s") of output (text signals need \(t.minLines))")
        }
        let structured = signals.lineCount - signals.unstructuredCount - signals.progressCount
        if structured > 0 {
            parts.append("\(structured) structured line\(structured == 1 ? "" : "s") (tables, code, JSON records) exempt")
        }
        let progress = signals.progressCount
        if progress > 0 {
            parts.append("\(progress) progress line\(progress == 1 ? "" : "s") (a counter advancing toward a fixed total) exempt")
        }
        if silentHit || silence >= t.silenceSeconds {
            parts.append("no output for \(seconds(silence)) (silence threshold \(seconds(t.silenceSeconds)))")
        }
        let confidenceText = FixedDecimal.format(confidence, digits: 2)
        if candidate != .healthy && !isRunaway {
            parts.append("confidence \(confidenceText) below required \(FixedDecimal.format(t.minConfidence, digits: 2))")
        } else {
            parts.append("confidence \(confidenceText)")
        }
        let prefix: String
        switch isRunaway ? candidate : .healthy {
        case .repetitiveOutput: prefix = "runaway (repetitive output): "
        case .cycle: prefix = "runaway (cycle): "
        case .silentSpin: prefix = "runaway (silent spin): "
        case .healthy: prefix = candidate == .healthy ? "healthy: " : "suspect, not acted on: "
        }
        return prefix + parts.joined(separator: "; ")
    }

    static func seconds(_ value: Double) -> String {
        FixedDecimal.format(value, digits: 1) + "s"
    }
}
