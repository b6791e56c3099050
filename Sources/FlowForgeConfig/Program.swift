// FlowForge — one entry of the config file's `programs:` map: a command `flowforge up` runs as named instances.
// SPDX-License-Identifier: Apache-2.0

/// A program of the config file (`programs.NAME`): its command, where and as whom it runs, how many instances,
/// and its own values for any of the file's settings keys (`max_cpu`, `on_runaway`, `grace`, ...).
///
/// Instances are named `NAME:1` ... `NAME:N`, also when N is 1, so that raising `instances` later keeps the
/// running `NAME:1` and adds the others (docs/fleet.md).
public struct Program: Sendable, Equatable {
    /// The program's name: 1-64 letters, digits, `.`, `_` or `-`, not starting with `.` or `-`.
    public let name: String
    /// The command and its arguments (`command` followed by `args`), never through a shell.
    public var command: [String]
    /// The working directory as written (nil: the config file's directory; relative: to that directory).
    public var cwd: String?
    /// Variables added to the environment the instances inherit from `flowforge up`.
    public var environment: [String: String] = [:]
    public var user: String?
    public var group: String?
    public var instances = 1
    /// The program's own settings by path (`detection.max_cpu`), applied over the file's sections.
    public var settings: [String: SettingValue] = [:]
    /// Where `programs.NAME` is in the file.
    public var line: Int?

    public init(name: String, command: [String]) {
        self.name = name
        self.command = command
    }

    /// `NAME:1` ... `NAME:N`.
    public var instanceNames: [String] { (1...max(1, instances)).map { "\(name):\($0)" } }

    /// The keys a program takes besides the settings keys.
    public static let ownKeys = ["command", "args", "cwd", "environment", "user", "group", "instances"]
    /// The most instances one program may have (the instance number's bound in a worker name).
    public static let maxInstances = 9999

    /// The working directory its instances start in: `cwd` resolved against `base` (the config file's
    /// directory), or `base` itself.
    public func directory(base: String) -> String {
        guard let cwd, !cwd.isEmpty else { return base }
        return cwd.hasPrefix("/") ? cwd : base + "/" + cwd
    }

    /// Whether `text` is a valid program name (the NAME of a worker name `NAME:INSTANCE`).
    public static func isValidName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 64, let first = text.utf8.first,
              first != UInt8(ascii: "."), first != UInt8(ascii: "-") else { return false }
        return text.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }

    /// Splits a command written as one string into words at spaces and tabs. No shell is involved, so a string
    /// that a shell would read differently (quotes, `$`, globs, redirections, `;`) is refused: write a list.
    static func words(_ text: String) -> [String]? {
        guard !text.contains(where: { "'\"\\$`;|&<>*?(){}[]~#\n".contains($0) }) else { return nil }
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// Whether `name` can be an environment variable set for a program: a C identifier, and not one of
    /// FlowForge's own `FLOWFORGE_*` variables (those are settings: give the setting under the program).
    static func isValidVariable(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39), !name.hasPrefix("FLOWFORGE_") else { return false }
        return name.utf8.allSatisfy { b in (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
    }
}
