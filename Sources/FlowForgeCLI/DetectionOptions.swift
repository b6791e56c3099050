// FlowForge — the detection, action and rollout options of `flowforge run`, validated before anything starts.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeDetector
#if canImport(Glibc)
import Glibc
#endif

extension RunawayAction: ExpressibleByArgument {}

/// How detector-requested kill/restart actions are rolled out (runbook section 8).
enum PolicyRollout: String, ExpressibleByArgument, CaseIterable {
    case shadow, canary, enforce
}

/// The detection thresholds, shared by `run` and `replay`.
struct ThresholdOptions: ParsableArguments {
    @Option(name: .customLong("max-cpu"), help: "CPU of the worker's tree, percent of one core, that counts as busy (top-style: 200 = two cores).")
    var maxCPU: Double = 85

    @Option(help: "Seconds CPU must stay at or above --max-cpu before the worker can be called a runaway.")
    var sustain: Double = 10

    @Option(name: .customLong("sample-interval"), help: "Seconds between samples of the worker's tree.")
    var sampleInterval: Double = 1

    @Option(name: .customLong("min-confidence"), help: "Confidence (0-1) a runaway verdict needs before FlowForge acts.")
    var minConfidence: Double = 0.8

    @Option(name: .customLong("repetition-threshold"), help: "Fraction (0-1) of recent output lines repeating after normalization that counts as a loop.")
    var repetitionThreshold: Double = 0.8

    @Option(name: .customLong("entropy-threshold"), help: "Output entropy in bits per character below which output counts as degenerate.")
    var entropyThreshold: Double = 2.5

    @Option(name: .customLong("min-lines"), help: "Output lines needed before output signals are trusted.")
    var minLines: Int = 20

    @Option(help: "Seconds of busy CPU with no output at all that count as a silent spin.")
    var silence: Double = 30

    func validate() throws {
        for (v, n) in [(maxCPU, "--max-cpu"), (sustain, "--sustain"), (sampleInterval, "--sample-interval"),
                       (minConfidence, "--min-confidence"), (repetitionThreshold, "--repetition-threshold"),
                       (entropyThreshold, "--entropy-threshold"), (silence, "--silence")] {
            guard v.isFinite else { throw ValidationError("\(n) must be a finite number, got \(v)") }
        }
        guard sampleInterval >= 0.05 && sampleInterval <= 60 else { throw ValidationError("--sample-interval must be between 0.05 and 60 seconds, got \(sampleInterval)") }
        do { try detectionThresholds.validate(cores: Self.cores) } catch { throw ValidationError("\(error)") }
    }

    static var cores: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    var detectionThresholds: DetectionThresholds {
        DetectionThresholds(maxCPU: maxCPU, sustainSeconds: sustain, minConfidence: minConfidence,
                            repetitionThreshold: repetitionThreshold, entropyHealthyBitsPerChar: entropyThreshold,
                            minLines: minLines, silenceSeconds: silence)
    }
}

/// The runaway action, restart limits, policy rollout and the events file.
struct DetectionOptions: ParsableArguments {
    @OptionGroup var thresholds: ThresholdOptions

    @Option(name: .customLong("on-runaway"), help: "What to do with a runaway: restart, kill or log.")
    var onRunaway: RunawayAction = .restart

    @Option(name: .customLong("recovery-window"), help: "Seconds a restarted worker must stay healthy to count as recovered.")
    var recoveryWindow: Double = 10

    @Option(name: .customLong("max-restarts"), help: "Crash-loop guard: at most this many restarts within --restart-window, then stop.")
    var maxRestarts: Int = 5

    @Option(name: .customLong("restart-window"), help: "Seconds over which --max-restarts is counted.")
    var restartWindow: Double = 300

    @Option(name: .customLong("policy-rollout"), help: "shadow (log-only), canary (enforce on sampled runs) or enforce.")
    var policyRollout: PolicyRollout?

    @Flag(name: .customLong("shadow-mode"), help: "Shorthand for --policy-rollout shadow.")
    var shadowMode = false

    @Option(name: .customLong("policy-canary-percent"), help: "With canary: percentage of runs (0-100) that enforce.")
    var policyCanaryPercent: Double = 10

    @Option(help: "Append every event as a JSON line to this file.")
    var events: String?

    var rollout: PolicyRollout { shadowMode ? .shadow : (policyRollout ?? .enforce) }

    func validate() throws {
        for (v, n) in [(recoveryWindow, "--recovery-window"), (restartWindow, "--restart-window"),
                       (policyCanaryPercent, "--policy-canary-percent")] {
            guard v.isFinite else { throw ValidationError("\(n) must be a finite number, got \(v)") }
        }
        guard recoveryWindow >= 0 && recoveryWindow <= 86_400 else { throw ValidationError("--recovery-window must be between 0 and 86400 seconds") }
        guard maxRestarts >= 0 && maxRestarts <= 1_000_000 else { throw ValidationError("--max-restarts must be between 0 and 1000000") }
        guard restartWindow > 0 && restartWindow <= 604_800 else { throw ValidationError("--restart-window must be between 0 and 604800 seconds") }
        guard (0...100).contains(policyCanaryPercent) else { throw ValidationError("--policy-canary-percent must be between 0 and 100, got \(policyCanaryPercent)") }
        guard policyCanaryPercent == policyCanaryPercent.rounded() else { throw ValidationError("--policy-canary-percent must be a whole number") }
        if shadowMode, let r = policyRollout, r != .shadow {
            throw ValidationError("--shadow-mode conflicts with --policy-rollout \(r.rawValue)")
        }
    }

    func detectorOptions() throws -> DetectorOptions {
        var o = DetectorOptions()
        o.thresholds = thresholds.detectionThresholds
        o.sampleIntervalSeconds = thresholds.sampleInterval
        o.onRunaway = onRunaway
        o.recoveryWindowSeconds = recoveryWindow
        o.cores = ThresholdOptions.cores
        try o.thresholds.validate(cores: o.cores)
        return o
    }

    /// The reaper's share of these options.
    var reaperArguments: [String] {
        ["--rollout=\(rollout.rawValue)", "--canary-percent=\(Int(policyCanaryPercent))", "--max-restarts=\(maxRestarts)",
         "--restart-window-ms=\(Int((restartWindow * 1000).rounded()))",
         "--stable-run-ms=\(Int((max(recoveryWindow, 1) * 1000).rounded()))"]
    }
}
