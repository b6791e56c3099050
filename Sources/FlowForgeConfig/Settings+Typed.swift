// FlowForge — typed handles on the tunables, so code reads and sets them by name and type, never by a string
// path that a typo turns into "", NaN or false.
// SPDX-License-Identifier: Apache-2.0

/// Tunables that are numbers (seconds, percentages, scores, MiB).
public enum NumberSetting: String, CaseIterable, Sendable {
    case grace = "run.grace"
    case maxCPU = "detection.max_cpu"
    case sustain = "detection.sustain"
    case sampleInterval = "detection.sample_interval"
    case minConfidence = "detection.min_confidence"
    case repetitionThreshold = "detection.repetition_threshold"
    case entropyThreshold = "detection.entropy_threshold"
    case silence = "detection.silence"
    case stallTimeout = "detection.stall_timeout"
    case maxMemory = "detection.max_memory"
    case watchdog = "detection.watchdog"
    case recoveryWindow = "actions.recovery_window"
    case restartWindow = "actions.restart_window"
    case segmentMB = "spool.segment_mb"
    case logRotateMB = "logs.rotate_mb"
}

/// Tunables that are whole numbers.
public enum IntegerSetting: String, CaseIterable, Sendable {
    case minLines = "detection.min_lines"
    case maxRestarts = "actions.max_restarts"
    case canaryPercent = "policy.canary_percent"
    case keepSegments = "spool.keep_segments"
    case logKeepRotated = "logs.keep_rotated"
}

/// Tunables that are text, free or one of a set of choices.
public enum TextSetting: String, CaseIterable, Sendable {
    case agentUser = "run.agent_user"
    case logLevel = "run.log_level"
    case logFormat = "run.log_format"
    case onRunaway = "actions.on_runaway"
    case restartOnExit = "actions.restart_on_exit"
    case onStall = "actions.on_stall"
    case onMemory = "actions.on_memory"
    case onWatchdog = "actions.on_watchdog"
    case rollout = "policy.rollout"
    case allowedHosts = "api.allowed_hosts"
    case eventsFile = "events.file"
}

/// Tunables that are on or off.
public enum FlagSetting: String, CaseIterable, Sendable {
    case cgroup = "run.cgroup"
    case pythonUnbuffered = "run.python_unbuffered"
    case requireKeyForReads = "api.require_key_for_reads"
}

/// A value given on the command line for one tunable, typed by its key.
public struct SettingOverride: Sendable, Equatable {
    public let path: String
    public let value: SettingValue

    public static func number(_ key: NumberSetting, _ v: Double) -> SettingOverride { .init(path: key.rawValue, value: .number(v)) }
    public static func integer(_ key: IntegerSetting, _ v: Int) -> SettingOverride { .init(path: key.rawValue, value: .integer(v)) }
    public static func text(_ key: TextSetting, _ v: String) -> SettingOverride { .init(path: key.rawValue, value: .text(v)) }
    public static func flag(_ key: FlagSetting, _ v: Bool) -> SettingOverride { .init(path: key.rawValue, value: .flag(v)) }
}

extension Settings {
    public func number(_ key: NumberSetting) -> Double {
        switch values[key.rawValue] {
        case .number(let d): d
        case .integer(let i): Double(i)
        default: preconditionFailure("\(key.rawValue) holds no number") // the table and this enum disagree
        }
    }

    public func integer(_ key: IntegerSetting) -> Int {
        guard case .integer(let i) = values[key.rawValue] else { preconditionFailure("\(key.rawValue) holds no integer") }
        return i
    }

    public func text(_ key: TextSetting) -> String {
        guard case .text(let s) = values[key.rawValue] else { preconditionFailure("\(key.rawValue) holds no text") }
        return s
    }

    public func flag(_ key: FlagSetting) -> Bool {
        guard case .flag(let b) = values[key.rawValue] else { preconditionFailure("\(key.rawValue) holds no flag") }
        return b
    }

    /// Applies command-line values (they pass the same type and bounds checks as the file's).
    public mutating func apply(_ overrides: [SettingOverride], source: String) throws(SettingsError) {
        for o in overrides { try set(o.path, o.value, source: source) }
    }
}
