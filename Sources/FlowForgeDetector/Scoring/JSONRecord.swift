// FlowForge — one-line JSON records compared field by field instead of as text.
// SPDX-License-Identifier: Apache-2.0

/// Turns a one-line JSON object into a canonical `key=value` line so that the detector compares JSON records
/// field by field: keys sorted (field order does not matter), nested keys dotted (`args.path`), arrays joined,
/// and volatile fields (times, latencies, request/trace/call ids, step counters: `ValueKey.isVolatile`)
/// dropped. So `{"ts": 1.7e9, "step": 315, "type": "tool_call", "name": "read_file", "args": {"path": "a"}}`
/// becomes `args.path=a name=read_file type=tool_call`, the same for every iteration of an agent stuck on
/// that call, while a log of distinct orders keeps its distinct `order_id`s.
///
/// Anything that is not a complete JSON object (a truncated line, text around the braces) is left alone.
/// Depth is limited to 8 and fields to 128; input beyond 8 KiB is not parsed.
public enum JSONRecord {
    /// The canonical line for `line`, or nil if it is not a one-line JSON object.
    public static func canonical(_ line: String) -> String? {
        // Most records are not JSON: look at the first non-blank byte before copying anything.
        guard line.utf8.first(where: { $0 != 0x20 && $0 != 0x09 }) == 0x7B else { return nil }
        var bytes = Array(line.utf8)
        guard bytes.count >= 2, bytes.count <= 8192 else { return nil }
        while let last = bytes.last, last == 0x20 || last == 0x09 || last == 0x0D { bytes.removeLast() }
        var start = 0
        while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        guard start < bytes.count, bytes[start] == 0x7B, bytes.last == 0x7D else { return nil }
        var parser = Parser(s: bytes, i: start)
        var fields: [(String, String)] = []
        guard parser.object(path: "", depth: 0, into: &fields) else { return nil }
        parser.skipSpace()
        guard parser.i == bytes.count else { return nil }
        fields.sort { $0.0 < $1.0 }
        return fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    struct Parser {
        let s: [UInt8]
        var i: Int

        mutating func skipSpace() {
            while i < s.count, s[i] == 0x20 || s[i] == 0x09 || s[i] == 0x0A || s[i] == 0x0D { i += 1 }
        }

        mutating func object(path: String, depth: Int, into fields: inout [(String, String)]) -> Bool {
            guard depth < 8, i < s.count, s[i] == 0x7B else { return false }
            i += 1
            skipSpace()
            if i < s.count, s[i] == 0x7D { i += 1; return true }
            while true {
                skipSpace()
                guard let key = string() else { return false }
                skipSpace()
                guard i < s.count, s[i] == 0x3A else { return false }
                i += 1
                skipSpace()
                let full = path.isEmpty ? key : path + "." + key
                let volatile = ValueKey.isVolatile(ValueKey.normalized(key.utf8))
                var parsed: [(String, String)] = []
                guard value(path: full, depth: depth + 1, into: &parsed) else { return false }
                if !volatile { fields.append(contentsOf: parsed) }
                guard fields.count <= 128 else { return false }
                skipSpace()
                guard i < s.count else { return false }
                if s[i] == 0x2C { i += 1; continue }
                if s[i] == 0x7D { i += 1; return true }
                return false
            }
        }

        mutating func value(path: String, depth: Int, into fields: inout [(String, String)]) -> Bool {
            guard i < s.count else { return false }
            switch s[i] {
            case 0x7B:
                return object(path: path, depth: depth, into: &fields)
            case 0x5B:
                guard depth < 8 else { return false }
                i += 1
                var items: [(String, String)] = []
                skipSpace()
                if i < s.count, s[i] == 0x5D { i += 1; fields.append((path, "[]")); return true }
                while true {
                    skipSpace()
                    guard value(path: path, depth: depth + 1, into: &items) else { return false }
                    skipSpace()
                    guard i < s.count, items.count <= 128 else { return false }
                    if s[i] == 0x2C { i += 1; continue }
                    if s[i] == 0x5D { i += 1; break }
                    return false
                }
                // Scalars of the array are joined under its own path; objects inside keep their dotted keys.
                let scalars = items.filter { $0.0 == path }.map(\.1)
                if !scalars.isEmpty { fields.append((path, "[" + scalars.joined(separator: ",") + "]")) }
                fields.append(contentsOf: items.filter { $0.0 != path })
                return true
            case 0x22:
                guard let text = string() else { return false }
                fields.append((path, text))
                return true
            default:
                let start = i
                while i < s.count, s[i] != 0x2C, s[i] != 0x7D, s[i] != 0x5D, s[i] != 0x20, s[i] != 0x09 { i += 1 }
                guard i > start else { return false }
                let token = String(decoding: s[start..<i], as: UTF8.self)
                guard token == "true" || token == "false" || token == "null"
                        || token.utf8.allSatisfy({ ShapePatterns.isDigit($0) || $0 == 0x2D || $0 == 0x2B || $0 == 0x2E || $0 | 0x20 == 0x65 })
                else { return false }
                fields.append((path, token))
                return true
            }
        }

        /// A JSON string at `i` (escapes kept as written, except `\"` and `\\`), or nil.
        mutating func string() -> String? {
            guard i < s.count, s[i] == 0x22 else { return nil }
            i += 1
            var out: [UInt8] = []
            while i < s.count, s[i] != 0x22 {
                if s[i] == 0x5C, i + 1 < s.count {
                    i += 1
                    if s[i] != 0x22 && s[i] != 0x5C && s[i] != 0x2F { out.append(0x5C) }
                }
                out.append(s[i])
                i += 1
            }
            guard i < s.count else { return nil }
            i += 1
            return String(decoding: out, as: UTF8.self)
        }
    }
}
