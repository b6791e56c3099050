// FlowForge — openapi.yaml itself, read with Yams: what every operation promises, and the schemas' keys.
// SPDX-License-Identifier: Apache-2.0
//
// The responses the API tests receive are checked against this same file (OpenAPISpec.check), types and all;
// this test pins what those checks cannot see: the auth scheme, the security of each operation, the shared
// responses, the /timeline parameters, and which keys each schema has and requires (so that a key the code
// sends, such as Run.degraded, cannot silently leave the contract).
import FlowForgeTestSupport
import Testing

@Suite("openapi.yaml")
struct OpenAPISpecTests {
    /// The properties and required keys of every schema. Keep equal to components.schemas in openapi.yaml.
    static let schemaKeys: [String: (properties: Set<String>, required: Set<String>)] = [
        "Health": (["status"], ["status"]),
        "Error": (["error", "live_runs"], ["error"]),
        "ActionRequest": (["reason", "run_id"], ["reason"]),
        "ActionAccepted": (["action_id", "incident_id", "status", "detail"], ["action_id", "incident_id", "status", "detail"]),
        "PeakScores": (["cpu_percent", "confidence", "entropy"], []),
        "IncidentSummary": (["id", "run_id", "name", "worker", "start", "end", "action", "rollout_mode", "operator", "reason",
                             "peak_scores", "generation", "outcome"],
                            ["id", "run_id", "name", "worker", "start", "end", "action", "rollout_mode", "operator", "reason", "peak_scores"]),
        "EventScores": (["cpu_percent", "entropy", "confidence"], []),
        "EventFields": ([], []),
        "TimelineEvent": (["seq", "ts", "run_id", "name", "generation", "kind", "incident_id", "fields", "reason", "scores"],
                          ["seq", "ts", "run_id", "generation", "kind", "fields"]),
        "Run": (["run_id", "live", "pid", "generation", "cpu_percent", "name", "command", "worker", "first_seen", "last_seen",
                 "degraded", "reaper_pid", "worker_started", "rss_bytes", "restarts", "open_incidents", "notify_ready", "notify_stopping", "notify_status"], ["run_id", "live"]),
    ]
    static let lists = ["IncidentList": "IncidentSummary", "EventList": "TimelineEvent", "RunList": "Run"]

    @Test func operationsSecurityAndSharedResponses() throws {
        let spec = try #require(OpenAPISpec.shared, "cannot read \(OpenAPISpec.path)")
        #expect(spec.value(["openapi"])?.hasPrefix("3.1") == true)
        #expect(spec.value(["components", "securitySchemes", "bearerAuth", "type"]) == "http")
        #expect(spec.value(["components", "securitySchemes", "bearerAuth", "scheme"]) == "bearer")
        #expect(spec.has(["components", "responses", "NotFound"]) && !spec.has(["components", "responses", "NotFound", "content"]),
                "the router's default 404 is documented, without a body")
        #expect(spec.has(["components", "responses", "MethodNotAllowed", "headers", "Allow"]), "the 405 is documented once, with Allow")
        #expect(spec.strings(["components", "responses", "MethodNotAllowed", "headers", "Allow", "schema", "enum"]) == ["GET", "POST"])
        #expect(spec.has(["components", "responses", "WrongHost", "content"]), "the Host check's 421 is documented")

        let paths = spec.children(["paths"])
        #expect(Set(paths) == ["/healthz", "/metrics", "/timeline", "/runs", "/process/restart", "/process/kill", "/", "/dashboard/{file}"])
        for path in paths {
            let methods = spec.children(["paths", path])
            #expect(methods.count == 1, "\(path) lists one method: other methods are 405 (MethodNotAllowed)")
            for method in methods {
                let security = try #require(spec.node(["paths", path, method, "security"])?.sequence, "\(method) \(path): no security")
                let schemes = security.flatMap { $0.mapping?.compactMap { $0.key.string } ?? [] }
                if method == "post" && path.hasPrefix("/process/") {
                    #expect(schemes == ["bearerAuth"], "\(method) \(path) needs the bearer key")
                    #expect(spec.documentedStatuses(method, path) == [202, 400, 401, 409, 413, 415, 503], "\(path)")
                } else {
                    #expect(security.isEmpty, "\(method) \(path) needs no key")
                }
            }
        }
        for path in ["/metrics", "/timeline", "/runs"] {
            #expect(spec.documentedStatuses("get", path).isSuperset(of: [200, 401, 503]), "\(path): --require-key-for-reads")
        }
        #expect(spec.documentedStatuses("get", "/timeline") == [200, 400, 401, 404, 503])
    }

    @Test func timelineParameters() throws {
        let spec = try #require(OpenAPISpec.shared)
        let limit = ["components", "parameters", "Limit"]
        #expect(spec.value(limit + ["name"]) == "limit" && spec.value(limit + ["in"]) == "query")
        #expect(spec.value(limit + ["schema", "type"]) == "integer")
        #expect(spec.value(limit + ["schema", "minimum"]) == "1" && spec.value(limit + ["schema", "maximum"]) == "1000")
        #expect(spec.value(limit + ["schema", "default"]) == "50")
        #expect(spec.value(["components", "parameters", "Before", "name"]) == "before")
        #expect(spec.value(["components", "parameters", "Before", "schema", "format"]) == "date-time")
        #expect(spec.value(["components", "parameters", "IncidentID", "name"]) == "incident_id")
        let refs = spec.node(["paths", "/timeline", "get", "parameters"])?.sequence?.compactMap { OpenAPISpec.child($0, "$ref")?.string } ?? []
        for name in ["Limit", "Before", "IncidentID"] {
            #expect(refs.contains("#/components/parameters/\(name)"), "/timeline does not use \(name): \(refs)")
        }
    }

    /// Each schema's keys and required keys, both ways; objects close (additionalProperties false) except the
    /// request (which tolerates more) and the event fields (a map of strings and numbers).
    @Test func schemasHaveTheirKeys() throws {
        let spec = try #require(OpenAPISpec.shared)
        #expect(Set(spec.children(["components", "schemas"])) == Set(Self.schemaKeys.keys).union(Self.lists.keys))
        for (name, keys) in Self.schemaKeys.sorted(by: { $0.key < $1.key }) {
            let node = ["components", "schemas", name]
            #expect(spec.value(node + ["type"]) == "object", "\(name)")
            #expect(Set(spec.children(node + ["properties"])) == keys.properties, "\(name): properties differ")
            #expect(Set(spec.strings(node + ["required"])) == keys.required, "\(name): required differs")
            switch name {
            case "ActionRequest": #expect(spec.value(node + ["additionalProperties"]) == "true")
            case "EventFields": #expect(spec.strings(node + ["additionalProperties", "type"]) == ["string", "number"])
            default: #expect(spec.value(node + ["additionalProperties"]) == "false", "\(name) is closed")
            }
        }
        for (list, item) in Self.lists {
            #expect(spec.value(["components", "schemas", list, "type"]) == "array")
            #expect(spec.refName(["components", "schemas", list, "items"]) == item, "\(list)")
        }
        #expect(spec.value(["components", "schemas", "Run", "properties", "degraded", "type"]) == "boolean")
        #expect(spec.value(["components", "schemas", "IncidentSummary", "properties", "start", "format"]) == "date-time")
    }

    /// The /metrics table: every family a gauge or a counter, counters named `_total`.
    @Test func metricsAreDocumented() throws {
        let documented = try #require(OpenAPISpec.shared).documentedMetrics
        #expect(documented.count >= 14, "\(documented)")
        for (name, type) in documented {
            #expect(type == "gauge" || type == "counter", "\(name): \(type)")
            #expect((type == "counter") == name.hasSuffix("_total"), "\(name)")
        }
    }

    /// The validator the API tests rely on catches what it must (a check that can fail).
    @Test func schemaCheckCatchesWrongBodies() throws {
        let spec = try #require(OpenAPISpec.shared)
        #expect(spec.problems(.object(["status": .string("ok")]), schema: "Health").isEmpty)
        #expect(!spec.problems(.object(["status": .string("fine")]), schema: "Health").isEmpty, "enum")
        #expect(!spec.problems(.object(["status": .string("ok"), "extra": .null]), schema: "Health").isEmpty, "closed object")
        #expect(!spec.problems(.array([.object(["run_id": .string("r")])]), schema: "RunList").isEmpty, "required live")
        #expect(!spec.problems(.array([.object(["run_id": .string("r"), "live": .bool(true), "pid": .number(1.5, integral: false)])]),
                               schema: "RunList").isEmpty, "integer")
        #expect(!spec.problems(.object(["error": .string("x"), "live_runs": .array([.number(1, integral: true)])]), schema: "Error").isEmpty)
        let event: [String: JSON] = ["seq": .number(1, integral: true), "ts": .string("2026-12-07T02:19:24.000001Z"), "run_id": .string("r"),
                                     "generation": .number(1, integral: true), "kind": .string("sample"),
                                     "fields": .object(["cpu_percent": .number(5, integral: false), "worker": .string("sh")])]
        #expect(spec.problems(.array([.object(event)]), schema: "EventList").isEmpty)
        var badTime = event
        badTime["ts"] = .string("yesterday")
        #expect(!spec.problems(.array([.object(badTime)]), schema: "EventList").isEmpty, "date-time")
        var badField = event
        badField["fields"] = .object(["flag": .bool(true)])
        #expect(!spec.problems(.array([.object(badField)]), schema: "EventList").isEmpty, "fields are strings or numbers")
        let accepted: JSON = .object(["action_id": .string("x7"), "incident_id": .string("i"), "status": .string("accepted"),
                                      "detail": .string("d")])
        #expect(!spec.problems(accepted, schema: "ActionAccepted").isEmpty, "pattern")
    }
}
