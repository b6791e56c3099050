// FlowForge — renders a verdict's evidence as one human-readable line.
// SPDX-License-Identifier: Apache-2.0

/// Builds `Verdict.reason`: a prefix (`runaway (cycle):`, `healthy:`), the CPU, then one clause saying what
/// repeated and why it counts as a loop (or what made the output progress), the template scores, and the
/// confidence, separated by `; `. Example:
/// `runaway (repetitive output): CPU 97% for 12.0s (>= 85%); nothing new for 11.0s: 110 records in a row
/// repeat 1 record with the same values, saying failure or retry, e.g. "Agent: retrying search_docs(...)";
/// 96% of 110 lines share a template (threshold 80%); entropy 0.4 bits/char (healthy >= 2.5); confidence 0.93`.
struct VerdictReason {
    let candidate: Verdict.Kind
    let isRunaway: Bool
    let confidence: Double
    let thresholds: DetectionThresholds
    let cpuPercent: Double
    let sustained: Double
    let hasCPU: Bool
    let signals: OutputSignals
    let loop: LoopEvidence
    let retryHit: Bool
    let silence: Double
    let silentHit: Bool
    let quietTree: Bool?
    let activity: (syscalls: Double, bytes: Double, switches: Double)?

    var text: String {
        let t = thresholds
        var parts: [String] = [cpuClause]
        let n = signals.unstructuredCount
        if silentHit || silence >= t.silenceSeconds {
            parts.append(silenceClause)
        }
        if n >= max(1, t.minLines) || loop.repeats >= max(1, t.minLines) {
            parts.append(loopClause)
            parts.append("\(FixedDecimal.percent(signals.repetitionRatio)) of \(n) lines share a template"
                + " (threshold \(FixedDecimal.percent(t.repetitionThreshold)))")
            if retryHit || signals.retryFraction > 0 {
                parts.append("\(FixedDecimal.percent(signals.retryFraction)) of them ask to retry")
            }
            parts.append("entropy \(FixedDecimal.format(signals.entropyBitsPerChar, digits: 1)) bits/char"
                + " (healthy >= \(FixedDecimal.format(t.entropyHealthyBitsPerChar, digits: 1)))")
        } else if !(silentHit || silence >= t.silenceSeconds) {
            let kind = signals.lineCount > n ? "unstructured line" : "line"
            parts.append("\(n) \(kind)\(n == 1 ? "" : "s") of output (text signals need \(t.minLines))")
        }
        let structured = signals.lineCount - signals.unstructuredCount - signals.progressCount
        if structured > 0 {
            parts.append("\(structured) structured line\(structured == 1 ? "" : "s") (tables, code) exempt")
        }
        if signals.progressCount > 0 {
            parts.append("\(signals.progressCount) progress line\(signals.progressCount == 1 ? "" : "s") (a counter advancing toward a fixed total) exempt")
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
        case .stalled: prefix = "stalled: "
        case .memory: prefix = "memory: "
        case .watchdog: prefix = "watchdog: "
        case .healthy: prefix = candidate == .healthy ? "healthy: " : "suspect, not acted on: "
        }
        return prefix + parts.joined(separator: "; ")
    }

    private var cpuClause: String {
        let t = thresholds
        let maxCPU = FixedDecimal.format(t.maxCPU, digits: 0) + "%"
        let cpu = FixedDecimal.format(cpuPercent, digits: 0) + "%"
        if !hasCPU { return "no CPU samples yet" }
        if sustained >= t.sustainSeconds { return "CPU \(cpu) for \(Self.seconds(sustained)) (>= \(maxCPU))" }
        if sustained > 0 {
            return "CPU \(cpu) for \(Self.seconds(sustained)) (>= \(maxCPU) needed for \(Self.seconds(t.sustainSeconds)))"
        }
        return "CPU \(cpu) (below \(maxCPU))"
    }

    private var silenceClause: String {
        let t = thresholds
        var clause = "no output for \(Self.seconds(silence)) (silence threshold \(Self.seconds(t.silenceSeconds)))"
        if let a = activity {
            let rates = "\(FixedDecimal.format(a.syscalls, digits: 1)) read/write calls/s, "
                + "\(FixedDecimal.format(a.bytes / 1024, digits: 1)) KiB/s, \(FixedDecimal.format(a.switches, digits: 1)) blocking switches/s"
            clause += quietTree == true ? " and no I/O (\(rates)): a spin" : ", but the tree is working (\(rates)): not a spin"
        } else {
            clause += ", I/O unknown"
        }
        return clause
    }

    /// The clause saying which evidence won: what repeated and for how long, a retry loop, or what was new.
    private var loopClause: String {
        let t = thresholds
        let example = loop.example.map { " e.g. \"\(Self.cut($0, 120))\"" } ?? ""
        let template = loop.shape.map { " (template \"\(Self.cut($0, 100))\")" } ?? ""
        if loop.holds {
            let what = loop.distinct == 1 ? "1 record" : "\(loop.distinct) records"
            let cycle = loop.period >= 2 ? " in a \(loop.period)-record cycle" : ""
            var clause = "nothing new for \(Self.seconds(loop.quietSeconds)): \(loop.repeats) records in a row repeat "
                + "\(what)\(cycle) with the same values (a loop needs \(loop.needed))"
            if loop.saysFailure { clause += ", saying failure or retry" }
            return clause + "," + example + template
        }
        if retryHit {
            let newest = (signals.example.map { " e.g. \"\(Self.cut($0, 120))\"" } ?? "")
                + (signals.exampleShape.map { " (template \"\(Self.cut($0, 100))\")" } ?? "")
            return "a retry loop: \(FixedDecimal.percent(signals.repetitionRatio)) of the last \(signals.unstructuredCount) "
                + "lines share one template and \(FixedDecimal.percent(signals.retryFraction)) ask to retry, whatever ids change,"
                + newest
        }
        let newest = signals.example.map { " (newest: \"\(Self.cut($0, 120))\")" } ?? ""
        if loop.repeats >= loop.needed && loop.saysCompletionOnly {
            return "\(loop.repeats) records in a row repeat, but they report completed work: progress\(newest)"
        }
        if loop.repeats >= loop.needed && loop.saysProgress {
            return "\(loop.repeats) records in a row repeat, but a counter advances toward its total: progress\(newest)"
        }
        if loop.repeats == 0 {
            return "the newest record carries new values: progress\(newest)"
        }
        return "new values \(Self.seconds(loop.quietSeconds)) before the newest record, \(loop.repeats) repeats since "
            + "(a loop needs \(loop.needed) over \(Self.seconds(t.sustainSeconds / 2))): progress\(newest)"
    }

    static func seconds(_ value: Double) -> String {
        FixedDecimal.format(value, digits: 1) + "s"
    }

    static func cut(_ s: String, _ max: Int) -> String {
        let flat = s.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " | ")
        return flat.utf8Prefix(max)
    }
}
