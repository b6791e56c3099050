// FlowForge — test support: openapi.yaml read with Yams, and the checks every API response must pass.
// SPDX-License-Identifier: Apache-2.0
import Foundation
import Yams

/// The HTTP API's contract as it is on disk, and a response checked against it.
///
/// Every response an API test receives goes through `check(_:method:target:)`: its path, method and status
/// must be documented, with the same media type and headers, and a JSON body must match the documented schema
/// (the subset of JSON Schema the spec uses: `type`, `properties`, `required`, `additionalProperties`, `items`,
/// `enum`, `pattern`, `format: date-time`, `anyOf`, `$ref`).
public struct OpenAPISpec: @unchecked Sendable { // a Yams Node is a value, never mutated after init
    public let root: Node

    public static let path = packageRoot + "/openapi.yaml"

    /// openapi.yaml, or nil when it cannot be read or parsed (a test then fails on `#require`).
    public static let shared: OpenAPISpec? = {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return try? OpenAPISpec(yaml: text)
    }()

    public init(yaml: String) throws {
        guard let root = try Yams.compose(yaml: yaml) else { throw TestFailure("openapi.yaml is empty") }
        self.root = root
    }

    // MARK: navigation

    public func node(_ path: [String]) -> Node? {
        var node = root
        for key in path {
            guard let next = Self.child(node, key) else { return nil }
            node = next
        }
        return node
    }

    /// The value under `key` in a mapping, matched on the key's text. (Yams' `node[key]` compares resolved
    /// tags, so a quoted `'200'` is not found under "200".)
    public static func child(_ node: Node, _ key: String) -> Node? {
        node.mapping?.first { $0.key.string == key }?.value
    }

    /// The scalar at `path` as text.
    public func value(_ path: [String]) -> String? { node(path)?.scalar?.string }
    public func has(_ path: [String]) -> Bool { node(path) != nil }

    /// The keys of the mapping at `path`, in file order.
    public func children(_ path: [String]) -> [String] {
        node(path)?.mapping?.compactMap { $0.key.string } ?? []
    }

    /// The scalars of the sequence at `path` (`required`, `enum`).
    public func strings(_ path: [String]) -> [String] {
        node(path)?.sequence?.compactMap(\.string) ?? []
    }

    /// The schema name a node refers to with `$ref`.
    public func refName(_ path: [String]) -> String? {
        value(path + ["$ref"]).map { String($0.split(separator: "/").last ?? "") }
    }

    /// The node a local `$ref` (`#/components/...`) points to.
    public func resolve(_ ref: String) -> Node? {
        guard ref.hasPrefix("#/") else { return nil }
        return node(ref.dropFirst(2).split(separator: "/").map(String.init))
    }

    /// The spec's path template that `path` falls under (`/dashboard/{file}` for `/dashboard/x`).
    public func template(for path: String) -> String? {
        let parts = path.components(separatedBy: "/")
        return children(["paths"]).first { template in
            let t = template.components(separatedBy: "/")
            return t.count == parts.count && zip(t, parts).allSatisfy { $0 == $1 || ($0.hasPrefix("{") && $0.hasSuffix("}")) }
        }
    }

    public func documentedStatuses(_ method: String, _ template: String) -> Set<Int> {
        Set(children(["paths", template, method.lowercased(), "responses"]).compactMap { Int($0) })
    }

    /// The key path of the response for a status, with a `$ref` to components.responses followed.
    public func response(_ method: String, _ template: String, _ status: Int) -> [String]? {
        let path = ["paths", template, method.lowercased(), "responses", "\(status)"]
        guard has(path) else { return nil }
        guard let ref = value(path + ["$ref"]) else { return path }
        let name = String(ref.split(separator: "/").last ?? "")
        return has(["components", "responses", name]) ? ["components", "responses", name] : nil
    }

    /// The metric families the `/metrics` description's table lists (`| \`flowforge_...\` | type | ...`).
    public var documentedMetrics: [String: String] {
        let text = value(["paths", "/metrics", "get", "description"]) ?? ""
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, cells[0].hasPrefix("`flowforge_"), cells[0].hasSuffix("`") else { continue }
            out[String(cells[0].dropFirst().dropLast())] = cells[1]
        }
        return out
    }

    // MARK: schemas

    /// What is wrong with `value` as the schema `components.schemas.<name>` (empty when nothing).
    public func problems(_ value: JSON, schema name: String) -> [String] {
        guard let schema = node(["components", "schemas", name]) else { return ["$: no schema \(name) in openapi.yaml"] }
        return problems(value, schema: schema, at: "$")
    }

    public func problems(_ value: JSON, schema: Node, at path: String) -> [String] {
        if let ref = Self.child(schema, "$ref")?.string {
            guard let target = resolve(ref) else { return ["\(path): unresolved \(ref)"] }
            return problems(value, schema: target, at: path)
        }
        if let alternatives = Self.child(schema, "anyOf")?.sequence {
            let results = alternatives.map { problems(value, schema: $0, at: path) }
            return results.contains { $0.isEmpty } ? [] : ["\(path): matches no anyOf alternative: \(results.map { $0.prefix(3) })"]
        }
        let types = Self.child(schema, "type").map { $0.sequence?.compactMap(\.string) ?? [$0.string ?? ""] } ?? []
        if !types.isEmpty && !types.contains(where: { Self.matches(value, type: $0) }) {
            return ["\(path): expected \(types.joined(separator: " or ")), got \(value)"]
        }
        var out: [String] = []
        if case .string(let s) = value {
            if let allowed = Self.child(schema, "enum")?.sequence?.compactMap(\.string), !allowed.contains(s) {
                out.append("\(path): \(s) is not one of \(allowed)")
            }
            if let pattern = Self.child(schema, "pattern")?.string, s.range(of: pattern, options: .regularExpression) == nil {
                out.append("\(path): \(s) does not match \(pattern)")
            }
            if Self.child(schema, "format")?.string == "date-time",
               s.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#, options: .regularExpression) == nil {
                out.append("\(path): \(s) is not an RFC 3339 date-time")
            }
        }
        switch value {
        case .array(let elements):
            if let items = Self.child(schema, "items") {
                for (i, element) in elements.enumerated() { out += problems(element, schema: items, at: "\(path)[\(i)]") }
            }
        case .object(let object):
            let required = Self.child(schema, "required")?.sequence?.compactMap(\.string) ?? []
            out += required.sorted().filter { object[$0] == nil }.map { "\(path).\($0): missing (required)" }
            for (key, element) in object.sorted(by: { $0.key < $1.key }) {
                if let property = Self.child(schema, "properties").flatMap({ Self.child($0, key) }) {
                    out += problems(element, schema: property, at: "\(path).\(key)")
                } else if let additional = Self.child(schema, "additionalProperties") {
                    switch additional.bool {
                    case false?: out.append("\(path).\(key): not a documented property")
                    case true?: break
                    case nil: out += problems(element, schema: additional, at: "\(path).\(key)")
                    }
                } // absent additionalProperties: JSON Schema allows any
            }
        default:
            break
        }
        return out
    }

    static func matches(_ value: JSON, type: String) -> Bool {
        switch (type, value) {
        case ("string", .string), ("number", .number), ("integer", .number(_, integral: true)), ("boolean", .bool),
             ("array", .array), ("object", .object), ("null", .null):
            return true
        default:
            return false
        }
    }

    // MARK: responses

    /// What is wrong with `reply` as the documented answer to `method target` (empty when nothing).
    public func check(_ reply: HTTPReply, method: String, target: String) -> [String] {
        let path = String(target.prefix { $0 != "?" })
        let what = "\(method) \(target) → \(reply.status)"
        guard let template = template(for: path) else {
            // components.responses.NotFound: the router's own 404, no body, no Content-Type.
            var out: [String] = []
            if reply.status != 404 { out.append("\(what): a path the spec does not know must be 404") }
            if !reply.body.isEmpty || reply.headers["content-type"] != nil {
                out.append("\(what): differs from components.responses.NotFound: \(reply.headers) \(reply.text)")
            }
            return out
        }
        var out: [String] = []
        let general = reply.status == 405 ? ["components", "responses", "MethodNotAllowed"]
            : reply.status == 421 ? ["components", "responses", "WrongHost"] : nil
        if reply.status == 405 && has(["paths", template, method.lowercased()]) {
            out.append("\(what): a documented method answered 405")
        }
        guard let response = general ?? response(method, template, reply.status) else {
            return out + ["\(what): not documented in openapi.yaml (paths.\(template).\(method.lowercased()).responses)"]
        }
        let mediaTypes = children(response + ["content"])
        if mediaTypes.isEmpty {
            if !reply.body.isEmpty { out.append("\(what): the spec documents no body") }
        } else if reply.mediaType.map(mediaTypes.contains) != true {
            out.append("\(what): Content-Type \(reply.headers["content-type"] ?? "none"), documented \(mediaTypes)")
        }
        // Link is optional by its description (only when another drilldown page follows).
        for header in children(response + ["headers"]) where header != "Link" {
            guard let actual = reply.headers[header.lowercased()] else {
                out.append("\(what): documented header \(header) missing")
                continue
            }
            let allowed = strings(response + ["headers", header, "schema", "enum"])
            if !allowed.isEmpty && !allowed.contains(actual) { out.append("\(what): \(header): \(actual), documented \(allowed)") }
        }
        guard reply.mediaType == "application/json" else { return out }
        guard let body = try? reply.json() else { return out + ["\(what): not JSON: \(reply.text)"] }
        guard let schema = node(response + ["content", "application/json", "schema"]) else {
            return out + ["\(what): the spec names no schema for the JSON body"]
        }
        return out + problems(body, schema: schema, at: "$").map { "\(what): \($0)" }
    }

    /// The `error` of a JSON error body (an Error object: `{"error": "<non-empty>"}`), nil when it is not one.
    public func errorText(_ reply: HTTPReply) -> String? {
        guard reply.mediaType == "application/json", let json = try? reply.json(), problems(json, schema: "Error").isEmpty,
              let text = json["error"]?.string, !text.isEmpty else { return nil }
        return text
    }
}
