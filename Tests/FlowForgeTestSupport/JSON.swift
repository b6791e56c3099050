// FlowForge — test support: JSON as the API sends it, types kept apart.
// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A JSON value with numbers and booleans kept apart (JSONSerialization on Linux blurs them).
public enum JSON: Decodable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double, integral: Bool)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .number(Double(i), integral: true) }
        else if let d = try? c.decode(Double.self) { self = .number(d, integral: false) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSON].self)) }
    }

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var double: Double? { if case .number(let d, _) = self { return d }; return nil }
    public var array: [JSON]? { if case .array(let a) = self { return a }; return nil }

    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let d, let integral): return integral ? "\(Int64(d))" : "\(d)"
        case .string(let s): return "\"\(s.count > 80 ? s.prefix(80) + "…" : Substring(s))\""
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}
