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

    @Option(name: .customLong("stall-timeout"), help: "Seconds with no output, CPU under 2% and no I/O after which the worker is stalled and gets the --on-runaway action (default 0: off).")
    var stallTimeout: Double?

    @Option(name: .customLong("max-memory"), help: ArgumentHelp("The tree's memory (cgroup memory.current, else the sum of RSS) above this for --sustain seconds gets the --on-runaway action: bytes, or 512M, 2G (default 0: off).", valueName: "size"))
    var maxMemory: MemorySize?

    @Option(help: "Seconds the worker may go without sending WATCHDOG=1 to its NOTIFY_SOCKET (sd_notify) before it gets the --on-runaway action; sets WATCHDOG_USEC and WATCHDOG_PID for it (default 0: off).")
    var watchdog: Double?

    @Option(help: "A config file (YAML; see config/flowforge.yaml). Also FLOWFORGE_CONFIG.")
    var config: String?

    static var cores: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The command-line values that were given, typed by their settings key.
    var given: [SettingOverride] {
        var out: [SettingOverride] = []
        if let v = maxCPU { out.append(.number(.maxCPU, v)) }
        if let v = sustain { out.append(.number(.sustain, v)) }
        if let v = sampleInterval { out.append(.number(.sampleInterval, v)) }
        if let v = minConfidence { out.append(.number(.minConfidence, v)) }
        if let v = repetitionThreshold { out.append(.number(.repetitionThreshold, v)) }
        if let v = entropyThreshold { out.append(.number(.entropyThreshold, v)) }
        if let v = minLines { out.append(.integer(.minLines, v)) }
        if let v = silence { out.append(.number(.silence, v)) }
        if let v = stallTimeout { out.append(.number(.stallTimeout, v)) }
        if let v = maxMemory { out.append(.number(.maxMemory, v.bytes)) }
        if let v = watchdog { out.append(.number(.watchdog, v)) }
        return out
    }

    static func thresholds(_ s: Settings) -> DetectionThresholds {
        DetectionThresholds(maxCPU: s.number(.maxCPU), sustainSeconds: s.number(.sustain),
                            minConfidence: s.number(.minConfidence),
                            repetitionThreshold: s.number(.repetitionThreshold),
                            entropyHealthyBitsPerChar: s.number(.entropyThreshold),
                            minLines: s.integer(.minLines), silenceSeconds: s.number(.silence),
                            stallSeconds: s.number(.stallTimeout), maxMemoryBytes: s.number(.maxMemory))
    }
}

/// The runaway action, restart limits, policy rollout and the events file.
struct DetectionOptions: ParsableArguments {
    @OptionGroup var thresholds: ThresholdOptions

    @Option(name: .customLong("on-runaway"), help: "What to do with a runaway: restart, kill or log (default restart).")
    var onRunaway: RunawayAction?

    @Option(name: .customLong("on-stall"), help: "What to do with a stalled worker (--stall-timeout): restart, kill or log (default: as --on-runaway).")
    var onStall: RunawayAction?

    @Option(name: .customLong("on-memory"), help: "What to do with a worker above --max-memory: restart, kill or log (default: as --on-runaway).")
    var onMemory: RunawayAction?

    @Option(name: .customLong("on-watchdog"), help: "What to do with a worker that missed its --watchdog: restart, kill or log (default: as --on-runaway).")
    var onWatchdog: RunawayAction?

    @Option(name: .customLong("recovery-window"), help: "Seconds a restarted worker must stay healthy to count as recovered (default 10).")
    var recoveryWindow: Double?

    @Option(name: .customLong("restart-on-exit"), help: "When the worker exits on its own: never (the run ends with it; default), on-failure (exit code not 0, or a signal) or always start it again, under the crash-loop guard.")
    var restartOnExit: ExitRestartChoice?

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

    var given: [SettingOverride] {
        var out = thresholds.given
        if let v = onRunaway { out.append(.text(.onRunaway, v.rawValue)) }
        if let v = onStall { out.append(.text(.onStall, v.rawValue)) }
        if let v = onMemory { out.append(.text(.onMemory, v.rawValue)) }
        if let v = onWatchdog { out.append(.text(.onWatchdog, v.rawValue)) }
        if let v = recoveryWindow { out.append(.number(.recoveryWindow, v)) }
        if let v = restartOnExit { out.append(.text(.restartOnExit, v.rawValue)) }
        if let v = maxRestarts { out.append(.integer(.maxRestarts, v)) }
        if let v = restartWindow { out.append(.number(.restartWindow, v)) }
        if shadowMode { out.append(.text(.rollout, "shadow")) } else if let r = policyRollout { out.append(.text(.rollout, r.rawValue)) }
        if let v = policyCanaryPercent { out.append(.integer(.canaryPercent, v)) }
        if let v = events { out.append(.text(.eventsFile, v)) }
        return out
    }

    static func detectorOptions(_ s: Settings) throws -> DetectorOptions {
        var o = DetectorOptions()
        o.thresholds = ThresholdOptions.thresholds(s)
        o.sampleIntervalSeconds = s.number(.sampleInterval)
        o.onRunaway = RunawayAction(rawValue: s.text(.onRunaway)) ?? .restart
        for (kind, setting) in [(Verdict.Kind.stalled, TextSetting.onStall), (.memory, .onMemory), (.watchdog, .onWatchdog)] {
            if let action = RunawayAction(rawValue: s.text(setting)) { o.actions[kind] = action }
        }
        o.recoveryWindowSeconds = s.number(.recoveryWindow)
        o.cores = ThresholdOptions.cores
        o.watchdogSeconds = s.number(.watchdog)
        try o.thresholds.validate(cores: o.cores)
        return o
    }

    /// The reaper's share of the settings.
    static func reaperArguments(_ s: Settings) -> [String] {
        ["--rollout=\(s.text(.rollout))", "--canary-percent=\(s.integer(.canaryPercent))",
         "--max-restarts=\(s.integer(.maxRestarts))",
         "--restart-window-ms=\(Int((s.number(.restartWindow) * 1000).rounded()))",
         "--stable-run-ms=\(Int((max(s.number(.recoveryWindow), 1) * 1000).rounded()))",
         "--restart-on-exit=\(s.text(.restartOnExit))"]
            + (s.number(.watchdog) > 0 ? ["--watchdog-usec=\(UInt64((s.number(.watchdog) * 1e6).rounded()))"] : [])
            // memory.high 10 % above --max-memory: throttling, not killing, while the detector acts.
            + (s.number(.maxMemory) > 0 ? ["--memory-high=\(UInt64((s.number(.maxMemory) * 1.1).rounded()))"] : [])
    }
}

extension RunawayAction: ExpressibleByArgument {}

/// `--max-memory`: a size as `ByteSize` reads it.
struct MemorySize: ExpressibleByArgument {
    let bytes: Double
    init?(argument: String) {
        guard let bytes = ByteSize.parse(argument) else { return nil }
        self.bytes = bytes
    }
}

/// `--restart-on-exit` values (the reaper's `ExitRestart`; the CLI does not link the reaper).
enum ExitRestartChoice: String, ExpressibleByArgument, CaseIterable {
    case never
    case onFailure = "on-failure"
    case always
}

/// How detector-requested kill/restart actions are rolled out (runbook section 8).
enum PolicyRollout: String, ExpressibleByArgument, CaseIterable {
    case shadow, canary, enforce
}

/// Resolves settings: defaults, then the config file (`--config` or FLOWFORGE_CONFIG), then FLOWFORGE_*
/// variables, then what was given on the command line. Errors name the key (and the file line, or the flag).
enum SettingsResolver {
    /// `cores` bounds --max-cpu (100 per core): this machine's, or, for a replay, the recording machine's.
    /// With `program`, the file's `programs.NAME` keys apply over its sections (`flowforge run --program`).
    static func resolve(configPath: String?, given: [SettingOverride], cores: Int = ThresholdOptions.cores,
                        program: String? = nil) throws -> Settings {
        var settings = Settings()
        let env = ProcessInfo.processInfo.environment
        do {
            if let path = configPath ?? env["FLOWFORGE_CONFIG"] {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ValidationError("--config: cannot read \(path)")
                }
                try settings.applyFile(text, path: path)
                if let program { try settings.applyProgram(program, source: path) }
            } else if let program {
                throw ValidationError("--program \(program): needs a config file with that program (--config or FLOWFORGE_CONFIG)")
            }
            try settings.applyEnvironment(env)
            try settings.apply(given, source: "command line")
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
