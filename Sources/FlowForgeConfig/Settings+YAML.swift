// FlowForge — reading the config file (YAML, through Yams) and printing the effective configuration.
// SPDX-License-Identifier: Apache-2.0
import Yams

extension Settings {
    /// Applies a config file's text. Unknown sections or keys, wrong types and out-of-range values are errors
    /// naming the key and its line; nothing is applied unless the whole file is valid.
    public mutating func applyFile(_ text: String, path: String) throws(SettingsError) {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw SettingsError(key: "(file)", source: path, line: Self.line(of: error), message: "not valid YAML: \(error)")
        }
        guard let root = node else { return } // an empty file changes nothing
        guard let mapping = root.mapping else {
            throw SettingsError(key: "(file)", source: path, line: root.mark?.line, message: "expected sections like 'detection:' at the top level")
        }
        var staged = self
        for (sectionNode, body) in mapping {
            let section = sectionNode.string ?? "?"
            if section == "programs" {
                staged.programs = try Settings.parsePrograms(body, path: path)
                continue
            }
            guard Settings.keys.contains(where: { $0.section == section }) else {
                throw SettingsError(key: section, source: path, line: sectionNode.mark?.line,
                                    message: "unknown section (known: \((Array(Set(Settings.keys.map(\.section))) + ["programs"]).sorted().joined(separator: ", ")))")
            }
            if case .scalar(let s) = body, s.string.isEmpty { continue } // "section:" with nothing under it
            guard let entries = body.mapping else {
                throw SettingsError(key: section, source: path, line: body.mark?.line, message: "expected key: value pairs under '\(section):'")
            }
            for (keyNode, valueNode) in entries {
                let name = keyNode.string ?? "?"
                let fullPath = "\(section).\(name)"
                guard case .scalar(let scalar) = valueNode else {
                    throw SettingsError(key: fullPath, source: path, line: valueNode.mark?.line, message: "expected a single value")
                }
                try staged.set(fullPath, text: scalar.string, source: path, line: keyNode.mark?.line)
            }
        }
        self = staged
    }

    /// The effective configuration as a config file, each value annotated with where it came from.
    public func yaml() -> String {
        var out = ""
        var section = ""
        for key in Settings.keys {
            if key.section != section {
                section = key.section
                out += (out.isEmpty ? "" : "\n") + "\(section):\n"
            }
            let value = values[key.path] ?? key.defaultValue
            let rendered: String
            if case .text(let s) = value { rendered = Settings.doubleQuoted(s) } else { rendered = value.description }
            out += "  \(key.name): \(rendered)  # \(origins[key.path] ?? "default")\n"
        }
        if !programs.isEmpty { out += "\nprograms:\n" }
        for p in programs {
            out += "  \(p.name):\n    command: [\(p.command.map(Settings.doubleQuoted).joined(separator: ", "))]\n"
            out += "    instances: \(p.instances)  # \(p.instanceNames.count == 1 ? p.instanceNames[0] : "\(p.instanceNames[0]) ... \(p.instanceNames.last!)")\n"
            for (key, value) in [("cwd", p.cwd), ("user", p.user), ("group", p.group)] {
                if let value { out += "    \(key): \(Settings.doubleQuoted(value))\n" }
            }
            if !p.environment.isEmpty {
                out += "    environment:\n" + p.environment.sorted { $0.key < $1.key }.map { "      \($0.key): \(Settings.doubleQuoted($0.value))\n" }.joined()
            }
            for key in Settings.keys {
                guard let value = p.settings[key.path] else { continue }
                let rendered: String
                if case .text(let s) = value { rendered = Settings.doubleQuoted(s) } else { rendered = value.description }
                out += "    \(key.name): \(rendered)\n"
            }
        }
        return out
    }

    /// `s` as a YAML double-quoted scalar that reads back as `s`: backslashes escaped as well as quotes, and
    /// every character YAML would fold (line breaks, U+0085, U+2028, U+2029) or refuses in a stream (other
    /// controls, U+FEFF, U+FFFE, U+FFFF) written as an escape. Quoting only `"` let a value from the environment
    /// with a newline or a backslash print a file that loads differently or not at all (found by fuzz-config).
    static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7F...0x9F, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func line(of error: Error) -> Int? {
        guard let y = error as? YamlError else { return nil }
        switch y {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }
}
