// FlowForge — the detection, action and rollout options of `flowforge run`, and how they resolve against
// the config file and the environment (command line > environment > file > defaults).
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeConfig
import FlowForgeDetector
import FlowForgeSystem
import Foundation

/// The detection thresholds, shared by `run` and `replay`. Unset options fall back to the environment,
/// then the config file, then the defaults shown.
struct ThresholdOptions: ParsableArguments {
    @Option(name: .customLong("max-cpu"), help: "CPU of the worker's tree, percent of one core, that counts as busy; 200 = two cores (default 85).")
    var maxCPU: Double?

    @Option(help: "Seconds CPU must stay at or above --max-cpu before the worker can be called a runaway (default 10).")
    var sustain: Double?

    @Option(name: .customLong("sample-interval"), help: "Seconds between samples of the worker's tree (default 1).")
    var sampleInterval: Double?

    @Option(name: .customLong("min-confidence"), help: "Confidence (0-1) a runaway verdict needs before FlowForge acts (default 0.8).")
    var minConfidence: Double?

    @Option(name: .customLong("repetition-threshold"), help: "Template repetition and share of lines asking to retry (0-1) that make a retry loop (default 0.8).")
    var repetitionThreshold: Double?

    @Option(name: .customLong("entropy-threshold"), help: "Entropy in bits per character below which a repeating stretch gains confidence (default 2.5).")
    var entropyThreshold: Double?

    @Option(name: .customLong("min-lines"), help: "Fewest output records (lines, tracebacks) a text rule judges (default 20).")
    var minLines: Int?

    @Option(help: "Seconds of busy CPU with no output and no I/O that count as a silent spin (default 30).")
    var silence: Double?

    @Option(help: "A config file (YAML; see config/flowforge.yaml). Also FLOWFORGE_CONFIG.")
    var config: String?

    static var cores: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The command-line values that were given, by settings path.
    var given: [(String, SettingValue)] {
        var out: [(String, SettingValue)] = []
        if let v = maxCPU { out.append(("detection.max_cpu", .number(v))) }
        if let v = sustain { out.append(("detection.sustain", .number(v))) }
        if let v = sampleInterval { out.append(("detection.sample_interval", .number(v))) }
        if let v = minConfidence { out.append(("detection.min_confidence", .number(v))) }
        if let v = repetitionThreshold { out.append(("detection.repetition_threshold", .number(v))) }
        if let v = entropyThreshold { out.append(("detection.entropy_threshold", .number(v))) }
        if let v = minLines { out.append(("detection.min_lines", .integer(v))) }
        if let v = silence { out.append(("detection.silence", .number(v))) }
        return out
    }

    static func thresholds(_ s: Settings) -> DetectionThresholds {
        DetectionThresholds(maxCPU: s.number("detection.max_cpu"), sustainSeconds: s.number("detection.sustain"),
                            minConfidence: s.number("detection.min_confidence"),
                            repetitionThreshold: s.number("detection.repetition_threshold"),
                            entropyHealthyBitsPerChar: s.number("detection.entropy_threshold"),
                            minLines: s.integer("detection.min_lines"), silenceSeconds: s.number("detection.silence"))
    }
}

/// The runaway action, restart limits, policy rollout and the events file.
struct DetectionOptions: ParsableArguments {
    @OptionGroup var thresholds: ThresholdOptions

    @Option(name: .customLong("on-runaway"), help: "What to do with a runaway: restart, kill or log (default restart).")
    var onRunaway: RunawayAction?

    @Option(name: .customLong("recovery-window"), help: "Seconds a restarted worker must stay healthy to count as recovered (default 10).")
    var recoveryWindow: Double?

    @Option(name: .customLong("max-restarts"), help: "Crash-loop guard: at most this many restarts within --restart-window, then stop (default 5).")
    var maxRestarts: Int?

    @Option(name: .customLong("restart-window"), help: "Seconds over which --max-restarts is counted (default 300).")
    var restartWindow: Double?

    @Option(name: .customLong("policy-rollout"), help: "shadow (log-only), canary (enforce on sampled runs) or enforce (default enforce).")
    var policyRollout: PolicyRollout?

    @Flag(name: .customLong("shadow-mode"), help: "Shorthand for --policy-rollout shadow.")
    var shadowMode = false

    @Option(name: .customLong("policy-canary-percent"), help: "With canary: percentage of runs (0-100) that enforce (default 10).")
    var policyCanaryPercent: Int?

    @Option(help: "Append every event as a JSON line to this file.")
    var events: String?

    func validate() throws {
        if shadowMode, let r = policyRollout, r != .shadow {
            throw ValidationError("--shadow-mode conflicts with --policy-rollout \(r.rawValue)")
        }
    }

    var given: [(String, SettingValue)] {
        var out = thresholds.given
        if let v = onRunaway { out.append(("actions.on_runaway", .text(v.rawValue))) }
        if let v = recoveryWindow { out.append(("actions.recovery_window", .number(v))) }
        if let v = maxRestarts { out.append(("actions.max_restarts", .integer(v))) }
        if let v = restartWindow { out.append(("actions.restart_window", .number(v))) }
        if shadowMode { out.append(("policy.rollout", .text("shadow"))) } else if let r = policyRollout { out.append(("policy.rollout", .text(r.rawValue))) }
        if let v = policyCanaryPercent { out.append(("policy.canary_percent", .integer(v))) }
        if let v = events { out.append(("events.file", .text(v))) }
        return out
    }

    static func detectorOptions(_ s: Settings) throws -> DetectorOptions {
        var o = DetectorOptions()
        o.thresholds = ThresholdOptions.thresholds(s)
        o.sampleIntervalSeconds = s.number("detection.sample_interval")
        o.onRunaway = RunawayAction(rawValue: s.text("actions.on_runaway")) ?? .restart
        o.recoveryWindowSeconds = s.number("actions.recovery_window")
        o.cores = ThresholdOptions.cores
        try o.thresholds.validate(cores: o.cores)
        return o
    }

    /// The reaper's share of the settings.
    static func reaperArguments(_ s: Settings) -> [String] {
        ["--rollout=\(s.text("policy.rollout"))", "--canary-percent=\(s.integer("policy.canary_percent"))",
         "--max-restarts=\(s.integer("actions.max_restarts"))",
         "--restart-window-ms=\(Int((s.number("actions.restart_window") * 1000).rounded()))",
         "--stable-run-ms=\(Int((max(s.number("actions.recovery_window"), 1) * 1000).rounded()))"]
    }
}

extension RunawayAction: ExpressibleByArgument {}

/// How detector-requested kill/restart actions are rolled out (runbook section 8).
enum PolicyRollout: String, ExpressibleByArgument, CaseIterable {
    case shadow, canary, enforce
}

/// Resolves settings: defaults, then the config file (`--config` or FLOWFORGE_CONFIG), then FLOWFORGE_*
/// variables, then what was given on the command line. Errors name the key (and the file line, or the flag).
enum SettingsResolver {
    /// `cores` bounds --max-cpu (100 per core): this machine's, or, for a replay, the recording machine's.
    static func resolve(configPath: String?, given: [(String, SettingValue)], cores: Int = ThresholdOptions.cores) throws -> Settings {
        var settings = Settings()
        let env = ProcessInfo.processInfo.environment
        do {
            if let path = configPath ?? env["FLOWFORGE_CONFIG"] {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ValidationError("--config: cannot read \(path)")
                }
                try settings.applyFile(text, path: path)
            }
            try settings.applyEnvironment(env)
            for (path, value) in given { try settings.set(path, value, source: "command line") }
        } catch let error as SettingsError {
            throw ValidationError(error.source == "command line" ? "\(flag(for: error.key)): \(error.message)" : error.description)
        }
        do { try ThresholdOptions.thresholds(settings).validate(cores: cores) } catch {
            throw ValidationError("\(error) (settings: \(settings.origins.filter { $0.key.hasPrefix("detection.") && $0.value != "default" }.map { "\($0.key) from \($0.value)" }.sorted().joined(separator: ", ")))")
        }
        return settings
    }

    /// The command-line flag for a settings path.
    static func flag(for path: String) -> String {
        switch path {
        case "policy.rollout": "--policy-rollout"
        case "policy.canary_percent": "--policy-canary-percent"
        case "events.file": "--events"
        case "spool.segment_mb": "--spool-segment-mb"
        case "spool.keep_segments": "--spool-keep-segments"
        default: "--" + (path.split(separator: ".").last.map(String.init) ?? path).replacingOccurrences(of: "_", with: "-")
        }
    }
}
