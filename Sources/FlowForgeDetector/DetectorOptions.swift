// FlowForge — the detector agent's options, handed over by `flowforge run` as `--key=value` arguments.
// SPDX-License-Identifier: Apache-2.0

/// What the detector does when it finds a runaway.
public enum RunawayAction: String, Sendable, CaseIterable {
    case restart, kill, log
}

/// The detector agent's configuration.
public struct DetectorOptions: Sendable, Equatable {
    public var thresholds = DetectionThresholds()
    public var sampleIntervalSeconds = 1.0
    public var onRunaway = RunawayAction.restart
    /// A restarted worker counts as recovered after this long without a runaway verdict.
    public var recoveryWindowSeconds = 10.0
    public var cores = 1
    /// `--watchdog`: seconds between the worker's WATCHDOG=1 pings before it is an incident (0: off).
    public var watchdogSeconds = 0.0
    /// systemd's WATCHDOG_USEC for FlowForge itself (`Type=notify` with `WatchdogSec=`): the detector pings
    /// FlowForge's service manager every half of it. 0: none.
    public var serviceWatchdogUsec: UInt64 = 0
    /// Per-signal actions (`--on-stall`, `--on-memory`, `--on-watchdog`); a kind not listed gets `onRunaway`.
    public var actions: [Verdict.Kind: RunawayAction] = [:]

    /// What to do about an incident of `kind`.
    public func action(for kind: Verdict.Kind) -> RunawayAction { actions[kind] ?? onRunaway }

    public init() {}

    /// Parses `--key=value` arguments; unknown keys and bad values are errors (the CLI validated them already,
    /// so an error here means a FlowForge bug or a tampered command line).
    public init(arguments: [String]) throws(DetectionThresholdsError) {
        for arg in arguments {
            guard arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") else { continue }
            let key = arg[arg.index(arg.startIndex, offsetBy: 2)..<eq]
            let value = String(arg[arg.index(after: eq)...])
            let number = Double(value)
            switch key {
            case "max-cpu": thresholds.maxCPU = number ?? .nan
            case "sustain": thresholds.sustainSeconds = number ?? .nan
            case "min-confidence": thresholds.minConfidence = number ?? .nan
            case "repetition-threshold": thresholds.repetitionThreshold = number ?? .nan
            case "entropy-threshold": thresholds.entropyHealthyBitsPerChar = number ?? .nan
            case "min-lines": thresholds.minLines = Int(value) ?? -1
            case "silence": thresholds.silenceSeconds = number ?? .nan
            case "stall-timeout": thresholds.stallSeconds = number ?? .nan
            case "max-memory": thresholds.maxMemoryBytes = number ?? .nan
            case "sample-interval": sampleIntervalSeconds = number ?? 1
            case "recovery-window": recoveryWindowSeconds = number ?? 10
            case "on-runaway": onRunaway = RunawayAction(rawValue: value) ?? .log
            case "cores": cores = max(1, Int(value) ?? 1)
            case "watchdog": watchdogSeconds = max(0, number ?? 0)
            case "service-watchdog-usec": serviceWatchdogUsec = UInt64(value) ?? 0
            case "on-stall": actions[.stalled] = RunawayAction(rawValue: value)
            case "on-memory": actions[.memory] = RunawayAction(rawValue: value)
            case "on-watchdog": actions[.watchdog] = RunawayAction(rawValue: value)
            default: continue
            }
        }
        try thresholds.validate(cores: cores)
    }

    /// The arguments that reproduce these options.
    public var arguments: [String] {
        ["--max-cpu=\(thresholds.maxCPU)", "--sustain=\(thresholds.sustainSeconds)",
         "--min-confidence=\(thresholds.minConfidence)", "--repetition-threshold=\(thresholds.repetitionThreshold)",
         "--entropy-threshold=\(thresholds.entropyHealthyBitsPerChar)", "--min-lines=\(thresholds.minLines)",
         "--silence=\(thresholds.silenceSeconds)", "--stall-timeout=\(thresholds.stallSeconds)",
         "--max-memory=\(thresholds.maxMemoryBytes)",
         "--sample-interval=\(sampleIntervalSeconds)",
         "--recovery-window=\(recoveryWindowSeconds)", "--on-runaway=\(onRunaway.rawValue)", "--cores=\(cores)",
         "--watchdog=\(watchdogSeconds)"]
            + [(Verdict.Kind.stalled, "on-stall"), (.memory, "on-memory"), (.watchdog, "on-watchdog")].compactMap { kind, flag in
                actions[kind].map { "--\(flag)=\($0.rawValue)" }
            }
    }
}
