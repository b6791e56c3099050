// FlowForge — every tunable, its default, unit and bounds, and the precedence that sets it:
// command line > environment > config file > defaults.
// SPDX-License-Identifier: Apache-2.0

/// A tunable's value.
public enum SettingValue: Sendable, Equatable, CustomStringConvertible {
    case number(Double)
    case integer(Int)
    case text(String)
    case flag(Bool)

    public var description: String {
        switch self {
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .integer(let i): String(i)
        case .text(let s): s
        case .flag(let b): b ? "true" : "false"
        }
    }
}

/// One tunable: where it lives in the file, its environment variable, type, bounds, default and meaning.
public struct SettingKey: Sendable {
    public enum Kind: Sendable {
        case number(ClosedRange<Double>)
        /// A size in bytes, written as bytes or with a binary suffix (`512M`, `2G`; see `ByteSize`), stored as a number.
        case bytes(ClosedRange<Double>)
        case integer(ClosedRange<Int>)
        case choice([String])
        case text
        case flag
    }

    public let section: String
    public let name: String
    public let kind: Kind
    public let defaultValue: SettingValue
    public let unit: String
    public let help: String

    /// `section.name`, the key's path in the file.
    public var path: String { "\(section).\(name)" }
    /// `FLOWFORGE_<NAME>` (names are unique across sections).
    public var environmentName: String { "FLOWFORGE_" + name.uppercased() }
}

/// What was wrong with a value: which key, where it came from, and why.
public struct SettingsError: Error, Sendable, CustomStringConvertible, Equatable {
    public let key: String
    public let source: String
    public let line: Int?
    public let message: String

    public var description: String {
        let at = line.map { "\(source):\($0)" } ?? source
        return "\(at): \(key): \(message)"
    }
}

/// The effective configuration.
public struct Settings: Sendable, Equatable {
    public private(set) var values: [String: SettingValue]
    /// Where each value came from: "default", "file", "environment" or "command line".
    public private(set) var origins: [String: String]
    /// The file's `programs:`, in file order (`flowforge up` runs them).
    public internal(set) var programs: [Program] = []

    public init() {
        values = Dictionary(uniqueKeysWithValues: Settings.keys.map { ($0.path, $0.defaultValue) })
        origins = Dictionary(uniqueKeysWithValues: Settings.keys.map { ($0.path, "default") })
    }

    public static func key(_ path: String) -> SettingKey? { keys.first { $0.path == path } }

    /// Sets `path` from text (a file scalar, an environment variable or a flag), checking type and bounds.
    public mutating func set(_ path: String, text raw: String, source: String, line: Int? = nil) throws(SettingsError) {
        guard let key = Settings.key(path) else {
            throw SettingsError(key: path, source: source, line: line, message: "unknown key (known: \(Settings.keys.map(\.path).joined(separator: ", ")))")
        }
        let value = try Settings.parse(raw, for: key, source: source, line: line)
        values[path] = value
        origins[path] = source
    }

    public mutating func set(_ path: String, _ value: SettingValue, source: String) throws(SettingsError) {
        guard let key = Settings.key(path) else {
            throw SettingsError(key: path, source: source, line: nil, message: "unknown key")
        }
        try Settings.check(value, for: key, source: source, line: nil)
        values[path] = value
        origins[path] = source
    }

    /// Applies every `FLOWFORGE_<NAME>` variable present in `environment`.
    public mutating func applyEnvironment(_ environment: [String: String]) throws(SettingsError) {
        for key in Settings.keys {
            if let raw = environment[key.environmentName] {
                try set(key.path, text: raw, source: "environment \(key.environmentName)")
            }
        }
    }

    static func parse(_ raw: String, for key: SettingKey, source: String, line: Int?) throws(SettingsError) -> SettingValue {
        let s = raw.trimmingCharacters(in: " \t")
        let value: SettingValue
        switch key.kind {
        case .number:
            guard let d = Double(s), d.isFinite else {
                throw SettingsError(key: key.path, source: source, line: line, message: "expected a finite number\(key.unit.isEmpty ? "" : " (\(key.unit))"), got '\(raw)'")
            }
            value = .number(d)
        case .bytes:
            guard let bytes = ByteSize.parse(s) else {
                throw SettingsError(key: key.path, source: source, line: line, message: "expected a size: bytes, or a number with K, M, G or T (powers of 1024), got '\(raw)'")
            }
            value = .number(bytes)
        case .integer:
            guard let i = Int(s) else { throw SettingsError(key: key.path, source: source, line: line, message: "expected a whole number, got '\(raw)'") }
            value = .integer(i)
        case .choice(let options):
            guard options.contains(s) else {
                throw SettingsError(key: key.path, source: source, line: line, message: "expected one of \(options.joined(separator: ", ")), got '\(raw)'")
            }
            value = .text(s)
        case .text:
            value = .text(s)
        case .flag:
            switch s.lowercased() {
            case "true", "yes", "on", "1": value = .flag(true)
            case "false", "no", "off", "0": value = .flag(false)
            default: throw SettingsError(key: key.path, source: source, line: line, message: "expected true or false, got '\(raw)'")
            }
        }
        try check(value, for: key, source: source, line: line)
        return value
    }

    static func check(_ value: SettingValue, for key: SettingKey, source: String, line: Int?) throws(SettingsError) {
        switch (key.kind, value) {
        case (.number(let range), .number(let d)), (.bytes(let range), .number(let d)):
            guard d.isFinite, range.contains(d) else {
                throw SettingsError(key: key.path, source: source, line: line, message: "\(value) is outside \(format(range.lowerBound))...\(format(range.upperBound))\(key.unit.isEmpty ? "" : " \(key.unit)")")
            }
        case (.integer(let range), .integer(let i)):
            guard range.contains(i) else {
                throw SettingsError(key: key.path, source: source, line: line, message: "\(i) is outside \(range.lowerBound)...\(range.upperBound)")
            }
        case (.choice(let options), .text(let s)):
            guard options.contains(s) else { throw SettingsError(key: key.path, source: source, line: line, message: "expected one of \(options.joined(separator: ", ")), got '\(s)'") }
        case (.text, .text), (.flag, .flag): break
        default:
            throw SettingsError(key: key.path, source: source, line: line, message: "wrong type: \(value)")
        }
    }

    static func format(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// Sizes as systemd's `MemoryMax=` and pm2's `max_memory_restart` take them: bytes, or a number (a fraction
/// allowed) with `K`, `M`, `G` or `T`, each 1024 times the one before; an optional `B` or `iB` after the
/// suffix is accepted (`512MiB`). Case does not matter.
public enum ByteSize {
    public static func parse(_ text: String) -> Double? {
        var s = Substring(text.trimmingCharacters(in: " \t").uppercased())
        if s.hasSuffix("IB") { s = s.dropLast(2) } else if s.hasSuffix("B") { s = s.dropLast() }
        var factor = 1.0
        if let last = s.last, let power = ["K": 1.0, "M": 2.0, "G": 3.0, "T": 4.0][String(last)] {
            factor = pow1024(power)
            s = s.dropLast()
        }
        guard !s.isEmpty, s.allSatisfy({ $0.isNumber || $0 == "." }), let n = Double(s), n.isFinite, n >= 0 else { return nil }
        return (n * factor).rounded()
    }

    /// `bytes` the way an operator reads it: `512 MiB`, `1.5 GiB`, `300 B`.
    public static func format(_ bytes: Double) -> String {
        for (power, unit) in [(4.0, "TiB"), (3.0, "GiB"), (2.0, "MiB"), (1.0, "KiB")] where bytes >= pow1024(power) {
            let v = bytes / pow1024(power)
            return (v == v.rounded() ? String(Int(v)) : String(format1(v))) + " " + unit
        }
        return "\(Int(bytes)) B"
    }

    static func pow1024(_ n: Double) -> Double { n <= 0 ? 1 : 1024 * pow1024(n - 1) }
    static func format1(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }
}
