// FlowForge — the config file's `programs:` map: parsed and checked with the file, applied per program.
// SPDX-License-Identifier: Apache-2.0
import Yams

extension Settings {
    /// The program named `name`, if the file has one.
    public func program(_ name: String) -> Program? { programs.first { $0.name == name } }

    /// Applies `programs.NAME`'s own settings over the file's sections (its values count as the file's:
    /// the environment and the command line still win over them).
    ///
    /// - Throws: `SettingsError` when the file has no such program.
    public mutating func applyProgram(_ name: String, source: String) throws(SettingsError) {
        guard let program = program(name) else {
            let known = programs.map(\.name)
            throw SettingsError(key: "programs.\(name)", source: source, line: nil,
                                message: "no such program (\(known.isEmpty ? "the file has no programs" : "known: \(known.joined(separator: ", "))"))")
        }
        // supervisord and pm2 restart a program that exits; `flowforge run` alone ends with its worker. The
        // file's `actions.restart_on_exit` is for `run`: a program that wants another value says so itself.
        if program.settings[TextSetting.restartOnExit.rawValue] == nil {
            try set(TextSetting.restartOnExit.rawValue, .text(ExitRestartDefault.programs), source: "\(source) (programs default)")
        }
        for (path, value) in program.settings.sorted(by: { $0.key < $1.key }) {
            try set(path, value, source: "\(source) (programs.\(name))")
        }
    }

    /// Parses the `programs:` section: a map from program name to its keys. Every error names
    /// `programs.NAME.KEY` and the line.
    static func parsePrograms(_ body: Node, path: String) throws(SettingsError) -> [Program] {
        if case .scalar(let s) = body, s.string.isEmpty { return [] }
        guard let entries = body.mapping else {
            throw SettingsError(key: "programs", source: path, line: body.mark?.line,
                                message: "expected a map of program names, like 'programs:\\n  consumer:\\n    command: [\"python3\", \"consumer.py\"]'")
        }
        var out: [Program] = []
        for (nameNode, spec) in entries {
            let name = nameNode.string ?? ""
            let line = nameNode.mark?.line
            guard Program.isValidName(name) else {
                throw SettingsError(key: "programs.\(name)", source: path, line: line,
                                    message: "a program name is 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
            }
            guard name != "all" else {
                throw SettingsError(key: "programs.all", source: path, line: line, message: "'all' is reserved: `flowforge stop all` means every program")
            }
            guard !out.contains(where: { $0.name == name }) else {
                throw SettingsError(key: "programs.\(name)", source: path, line: line, message: "defined twice")
            }
            out.append(try parseProgram(name, spec, line: line, path: path))
        }
        return out
    }

    private static func parseProgram(_ name: String, _ spec: Node, line: Int?, path: String) throws(SettingsError) -> Program {
        func fail(_ key: String, _ node: Node?, _ message: String) -> SettingsError {
            SettingsError(key: "programs.\(name)\(key.isEmpty ? "" : ".\(key)")", source: path, line: node?.mark?.line ?? line, message: message)
        }
        guard let keys = spec.mapping else { throw fail("", spec, "expected the program's keys (command: [...], instances: N, ...)") }
        var command: [String]?
        var args: [String] = []
        var program = Program(name: name, command: [])
        program.line = line
        for (keyNode, value) in keys {
            let key = keyNode.string ?? ""
            switch key {
            case "command", "args":
                let words: [String]
                if let list = value.sequence {
                    var collected: [String] = []
                    for item in list {
                        guard case .scalar(let s) = item else { throw fail(key, item, "expected a list of strings") }
                        collected.append(s.string)
                    }
                    words = collected
                } else if case .scalar(let s) = value {
                    guard let split = Program.words(s.string) else {
                        throw fail(key, value, "'\(s.string)' would mean something else to a shell, and no shell is involved: write it as a list, like [\"sh\", \"-c\", \"...\"]")
                    }
                    words = split
                } else {
                    throw fail(key, value, "expected a list of strings, like [\"python3\", \"worker.py\"]")
                }
                if key == "command" {
                    guard let first = words.first, !first.isEmpty else { throw fail(key, value, "the command is empty") }
                    command = words
                } else {
                    args = words
                }
            case "cwd", "user", "group":
                guard case .scalar(let s) = value, !s.string.isEmpty else { throw fail(key, value, "expected a non-empty string") }
                switch key {
                case "cwd": program.cwd = s.string
                case "user": program.user = s.string
                default: program.group = s.string
                }
            case "instances":
                guard case .scalar(let s) = value, let n = Int(s.string), (1...Program.maxInstances).contains(n) else {
                    throw fail(key, value, "expected a whole number of instances, 1-\(Program.maxInstances), got '\(value.string ?? "")'")
                }
                program.instances = n
            case "environment":
                if case .scalar(let s) = value, s.string.isEmpty { continue }
                guard let variables = value.mapping else { throw fail(key, value, "expected NAME: value pairs") }
                for (variable, setting) in variables {
                    let v = variable.string ?? ""
                    guard Program.isValidVariable(v) else {
                        throw fail("environment.\(v)", variable,
                                   v.hasPrefix("FLOWFORGE_") ? "FlowForge's own variables are settings: give the setting under the program instead (e.g. max_cpu: 70)"
                                                             : "not a variable name (letters, digits and '_', not starting with a digit)")
                    }
                    guard case .scalar(let s) = setting else { throw fail("environment.\(v)", setting, "expected a single value") }
                    program.environment[v] = s.string
                }
            default:
                guard let setting = Settings.keys.first(where: { $0.name == key }) else {
                    throw fail(key, keyNode, "unknown key (a program takes \(Program.ownKeys.joined(separator: ", ")) and every setting by its name: \(Settings.keys.map(\.name).joined(separator: ", ")))")
                }
                guard case .scalar(let s) = value else { throw fail(key, value, "expected a single value") }
                do { program.settings[setting.path] = try Settings.parse(s.string, for: setting, source: path, line: keyNode.mark?.line) } catch {
                    throw fail(key, keyNode, error.message)
                }
            }
        }
        guard let command else { throw fail("command", spec, "missing: every program needs a command, like command: [\"python3\", \"worker.py\"]") }
        program.command = command + args
        return program
    }
}

/// `actions.restart_on_exit` for the instances of `flowforge up` when neither the file's `actions:` section
/// nor the program says otherwise.
public enum ExitRestartDefault {
    public static let programs = "on-failure"
}
