// FlowForge — the API's routes in process (HummingbirdTesting, no server and no run): every status and shape
// they answer, each answer checked against openapi.yaml. What needs a live run is FlowForgeIntegrationTests.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAPI
import FlowForgeModel
import FlowForgeTestSupport
import Foundation
import Testing

@Suite("API routes in process")
struct APIRouteTests {
    // MARK: the read endpoints

    /// /healthz; /metrics with every family openapi.yaml documents, each with its documented type, and no
    /// family it does not document; /runs and /timeline in their schemas (a degraded run, an operator incident).
    @Test func readEndpointsAnswerAsDocumented() async throws {
        let documented = try #require(OpenAPISpec.shared).documentedMetrics
        #expect(documented.count >= 14, "the /metrics table in openapi.yaml: \(documented)")
        try await RouteFixture.withRouter(state: RouteFixture.busyRun) { client in
            let health = try await client.send("GET", "/healthz")
            #expect(try health.status == 200 && health.json() == .object(["status": .string("ok")]))

            let reply = try await client.send("GET", "/metrics")
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            let page = PrometheusText(reply.text)
            #expect(page.malformed.isEmpty, "\(page.malformed)")
            for family in page.families.sorted() {
                #expect(documented[family] != nil, "\(family) is served but not in openapi.yaml's /metrics table")
                #expect(page.types[family] == documented[family], "\(family): served as \(page.types[family] ?? "?")")
            }
            #expect(Set(documented.keys).subtracting(page.families).isEmpty,
                    "documented but never served: \(Set(documented.keys).subtracting(page.families).sorted())")
            let run = RouteFixture.runID
            #expect(page.first("flowforge_restarts_total", ["run": run])?.value == 1)
            #expect(page.first("flowforge_actions_total", ["run": run, "kind": "restart", "mode": "operator"])?.value == 1)
            #expect(page.first("flowforge_agent_messages_rejected_total", ["run": run, "agent": "api"])?.value == 3)
            #expect(page.first("flowforge_worker_up", ["run": run])?.value == 1)

            let runs = try #require(try await client.send("GET", "/runs").json().array)
            #expect(runs.count == 1 && runs.first?["degraded"] == .bool(true) && runs.first?["pid"]?.double == 4343, "\(runs)")
            let incidents = try #require(try await client.send("GET", "/timeline").json().array)
            #expect(incidents.compactMap { $0["id"]?.string } == ["\(run)-op1", "\(run)-1"], "\(incidents)")
            let chain = try #require(try await client.send("GET", "/timeline?incident_id=\(run)-op1").json().array)
            #expect(chain.compactMap { $0["kind"]?.string }.filter { $0 != "sample" }
                    == ["action.requested", "policy.decision", "worker.exited", "worker.started"], "\(chain)")
        }
    }

    /// /runs shows what the live generation said on its NOTIFY_SOCKET, in whatever order the spool and the
    /// channel deliver it: a `worker.notify` ingested before its own `worker.started` still counts (the CI run
    /// that lost the browser check's STATUS=), one from an earlier generation never does.
    @Test func runsShowTheLiveGenerationsNotifyState() async throws {
        func event(_ seq: Int, _ g: Int, _ kind: String, _ fields: String) throws -> TimelineEvent {
            try #require(TimelineEvent(jsonLine: Substring(#"{"ts":"2026-12-07T02:19:2\#(seq).000000Z","run_id":"\#(RouteFixture.runID)","generation":\#(g),"kind":"\#(kind)","seq":\#(seq),"fields":{\#(fields)}}"#)))
        }
        let state = RunState()
        state.ingest(try event(3, 1, "worker.notify", #""ready":"1","status":"spinning on purpose""#))
        state.ingest(try event(2, 1, "worker.started", #""pid":4242"#))
        try await RouteFixture.withRouter(state: state) { client in
            let run = try #require(try await client.send("GET", "/runs").json().array?.first)
            #expect(run["notify_status"] == .string("spinning on purpose") && run["notify_ready"] == .bool(true), "\(run)")
        }
        state.ingest(try event(5, 2, "worker.started", #""pid":4343"#))
        state.ingest(try event(4, 1, "worker.notify", #""status":"old generation""#))
        try await RouteFixture.withRouter(state: state) { client in
            let run = try #require(try await client.send("GET", "/runs").json().array?.first)
            #expect(run["notify_status"] == nil && run["notify_ready"] == nil && run["generation"]?.double == 2, "\(run)")
        }
        state.ingest(try event(6, 2, "worker.notify", #""status":"second""#))
        try await RouteFixture.withRouter(state: state) { client in
            let run = try #require(try await client.send("GET", "/runs").json().array?.first)
            #expect(run["notify_status"] == .string("second") && run["notify_ready"] == nil, "\(run)")
        }
    }

    /// limit and before are validated (400, JSON error), incident_id is looked up (404, JSON error) and wins over
    /// the other parameters.
    @Test func timelineValidatesItsQuery() async throws {
        try await RouteFixture.withRouter { client in
            for query in ["limit=1", "limit=1000", "limit=50&before=2026-01-01T00:00:00.000Z",
                          "before=2026-01-01T00:00:00.5%2B01:00", "before=2099-12-31T23:59:59.999999Z",
                          "before=2026-01-01T00:00:00Z"] { // RFC 3339 allows whole seconds
                let reply = try await client.send("GET", "/timeline?" + query)
                #expect(reply.status == 200, "\(query): \(reply.text)")
                #expect(try reply.json() == .array([]), "\(query)")
            }
            for query in ["limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1.5", "limit=", "before=garbage",
                          "before=2026-13-01T00:00:00.000Z", "before=", "limit=0&before=2026-01-01T00:00:00.000Z"] {
                let reply = try await client.send("GET", "/timeline?" + query)
                #expect(reply.status == 400 && isError(reply), "\(query): \(reply.status) \(reply.text)")
            }
            for query in ["incident_id=nope", "incident_id=", "incident_id=nope&limit=0", "incident_id=nope&before=garbage"] {
                let reply = try await client.send("GET", "/timeline?" + query)
                #expect(reply.status == 404 && isError(reply), "\(query): \(reply.status) \(reply.text)")
            }
        }
    }

    /// Other methods on the known paths: 405, a JSON error, and an Allow header naming the one method; none acts.
    @Test func otherMethodsOnKnownPathsAre405WithAllow() async throws {
        let sink = RecordingSink()
        try await RouteFixture.withRouter(sink: sink) { client in
            let cases: [(paths: [String], methods: [String], allow: String)] = [
                // HEAD has no body to check: HTTPBoundaryTests sends it (and TRACE) to a live server.
                (["/healthz", "/metrics", "/timeline", "/runs", "/", "/dashboard/index.html"],
                 ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"], "GET"),
                (["/process/restart", "/process/kill"], ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"], "POST"),
            ]
            for c in cases {
                for path in c.paths {
                    for method in c.methods {
                        let reply = try await client.send(method, path, headers: [("Authorization", "Bearer ffk-route-key"),
                                                                                  ("Content-Type", "application/json")],
                                                          body: reasonBody("must not act"))
                        #expect(reply.status == 405 && reply.headers["allow"] == c.allow, "\(method) \(path): \(reply.status) \(reply.headers)")
                        #expect(isError(reply), "\(method) \(path): \(reply.text)")
                    }
                }
            }
        }
        #expect(sink.received.isEmpty, "a 405 must not act")
    }

    /// A path the router does not know: Hummingbird's default 404, empty, without a Content-Type (documented as
    /// such; it is not an Error object).
    @Test func unknownPathsGetTheRouterDefault404() async throws {
        let sink = RecordingSink()
        try await RouteFixture.withRouter(sink: sink) { client in
            for (method, path) in [("GET", "/nope"), ("POST", "/nope"), ("GET", "/process"), ("GET", "/healthz/extra"),
                                   ("POST", "/process/restart/now")] {
                let reply = try await client.send(method, path, headers: [("Authorization", "Bearer ffk-route-key"),
                                                                          ("Content-Type", "application/json")],
                                                  body: reasonBody("must not act"))
                #expect(reply.status == 404, "\(method) \(path)")
                #expect(reply.body.isEmpty && reply.headers["content-type"] == nil, "\(method) \(path): \(reply.headers) \(reply.text)")
            }
        }
        #expect(sink.received.isEmpty)
    }

    /// The dashboard's files from memory; an unknown one is a JSON 404.
    @Test func dashboardFilesAreServed() async throws {
        try await RouteFixture.withRouter { client in
            let index = try await client.send("GET", "/")
            #expect(index.status == 200 && index.mediaType == "text/html" && !index.body.isEmpty)
            let file = try await client.send("GET", "/dashboard/index.html")
            #expect(file.status == 200 && file.body == index.body)
            for (name, type) in [("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")] {
                let reply = try await client.send("GET", "/dashboard/" + name)
                #expect(reply.status == 200 && reply.mediaType == type && !reply.body.isEmpty, "\(name)")
            }
            let missing = try await client.send("GET", "/dashboard/no-such-file.js")
            #expect(missing.status == 404 && isError(missing))
        }
    }

    // MARK: the process endpoints

    /// 401, 415, 413, 400 and a 409 (another run's id) for both process endpoints, in the order the checks run;
    /// only the 409 reaches the sink (which then refuses), nothing else does.
    @Test func processEndpointsRefuseBadRequestsWithoutActing() async throws {
        let key = "ffk-route-key"
        let sink = RecordingSink()
        try await RouteFixture.withRouter(key: key, sink: sink) { client in
            let json = ("Content-Type", "application/json")
            let auth = ("Authorization", "Bearer \(key)")
            let authorized = [auth, json]
            let good = reasonBody("must not act")
            let oversized = Data(("{\"reason\":\"" + String(repeating: "x", count: 16_385 - 13) + "\"}").utf8)
            #expect(oversized.count == 16_385)
            let atLimit = Data(("{\"reason\":\"" + String(repeating: "x", count: 16_384 - 13) + "\"}").utf8)
            #expect(atLimit.count == 16_384)
            let cases: [(status: Int, headers: [(String, String)], body: Data, why: String)] = [
                // 401: no key, or not exactly the key; checked before anything else is looked at.
                (401, [json], good, "no Authorization"),
                (401, [("Authorization", "Bearer wrong-\(key)"), json], good, "wrong key"),
                (401, [("Authorization", "Bearer \(key)x"), json], good, "key with a suffix"),
                (401, [("Authorization", "Bearer \(key.dropLast())"), json], good, "a prefix of the key"),
                (401, [("Authorization", "Bearer "), json], good, "empty key"),
                (401, [("Authorization", "Basic \(Data("flowforge:\(key)".utf8).base64EncodedString())"), json], good, "Basic scheme"),
                (401, [("Authorization", key), json], good, "no scheme"),
                (401, [("Content-Type", "text/plain")], good, "no key and a wrong type: 401 first"),
                (401, [json], oversized, "no key and too large: 401 first"),
                // 415: the media type must be application/json (parameters and case aside).
                (415, [auth], good, "no Content-Type"),
                (415, [auth, ("Content-Type", "text/plain")], good, "text/plain"),
                (415, [auth, ("Content-Type", "application/x-www-form-urlencoded")], Data("reason=x".utf8), "a form"),
                (415, [auth, ("Content-Type", "application/jsonx")], good, "application/jsonx"),
                (415, [auth, ("Content-Type", "text/plain")], oversized, "a wrong type and too large: 415 first"),
                // 413: over 16 KiB.
                (413, authorized, oversized, "Content-Length 16385"),
                // 400: not a JSON object, no string reason, empty, or longer than 1024 bytes once trimmed.
                (400, authorized, atLimit, "16384 bytes is not too large, but the reason is too long"),
                (400, authorized, Data(), "an empty body"),
                (400, authorized, Data("{bad".utf8), "malformed JSON"),
                (400, authorized, Data("[1]".utf8), "an array"),
                (400, authorized, Data("\"reason\"".utf8), "a string"),
                (400, authorized, Data("{}".utf8), "no reason"),
                (400, authorized, Data("{\"why\":\"x\"}".utf8), "another key"),
                (400, authorized, Data("{\"reason\":5}".utf8), "a number"),
                (400, authorized, Data("{\"reason\":null}".utf8), "null"),
                (400, authorized, Data("{\"reason\":[\"x\"]}".utf8), "an array reason"),
                (400, authorized, reasonBody(""), "an empty reason"),
                (400, authorized, reasonBody(" \n\t  "), "a whitespace reason"),
                (400, authorized, reasonBody(String(repeating: "x", count: 1025)), "1025 bytes"),
                (400, authorized, reasonBody(String(repeating: "é", count: 513)), "513 characters, 1026 bytes"),
                (400, [auth, ("Content-Type", "Application/JSON; charset=utf-8")], reasonBody(""),
                 "the type check ignores case and parameters; then the empty reason is a 400"),
                (400, authorized, Data("{\"reason\":\"x\",\"run_id\":5}".utf8), "a run_id that is not a string"),
                // 409: a run_id that is not this (live) run.
                (409, authorized, Data("{\"reason\":\"must not act\",\"run_id\":\"r-no-such-run\"}".utf8), "another run's id"),
            ]
            for path in ["/process/restart", "/process/kill"] {
                for c in cases {
                    let reply = try await client.send("POST", path, headers: c.headers, body: c.body)
                    #expect(reply.status == c.status, "\(path), \(c.why): \(reply.status) \(reply.text)")
                    #expect(isError(reply), "\(path), \(c.why): not a JSON error: \(reply.text)")
                    if c.status == 401 { #expect(reply.headers["www-authenticate"] == "Bearer realm=\"flowforge\"", "\(c.why)") }
                }
            }
        }
        #expect(sink.received.map(\.runID) == ["r-no-such-run", "r-no-such-run"], "only the 409s reach the sink: \(sink.received)")
    }

    /// What the sink answers becomes the documented status: 202 with an ActionAccepted, 409 for a refusal, a
    /// dead run or several live ones (with live_runs), 503 when the run did not answer; and a run without a live
    /// worker is a 409 before the sink is asked.
    @Test func sinkAnswersBecomeDocumentedStatuses() async throws {
        let answers: [(ActionResult, Int)] = [
            (.done(ActionReply(actionID: 7, incidentID: "r-op7", accepted: true, detail: "restart of generation 1")), 202),
            (.done(ActionReply(actionID: 8, incidentID: "", accepted: false, detail: "a teardown is in progress")), 409),
            (.noLiveRun, 409),
            (.ambiguous(["r1", "r2"]), 409),
            (.unknownRun("r3"), 409),
            (.unavailable("the run did not answer"), 503),
        ]
        for (answer, status) in answers {
            let sink = RecordingSink { _, _ in answer }
            try await RouteFixture.withRouter(sink: sink) { client in
                let reply = try await client.send("POST", "/process/restart", headers: [("Authorization", "Bearer ffk-route-key"),
                                                                                         ("Content-Type", "application/json")],
                                                  body: reasonBody("  operator  "))
                #expect(reply.status == status, "\(answer): \(reply.status) \(reply.text)")
                if status == 202 {
                    #expect(try reply.json() == .object(["action_id": .string("7"), "incident_id": .string("r-op7"),
                                                         "status": .string("accepted"), "detail": .string("restart of generation 1")]))
                } else if case .ambiguous = answer {
                    #expect(try reply.json()["live_runs"] == .array([.string("r1"), .string("r2")]))
                }
            }
            #expect(sink.received.map(\.reason) == ["operator"], "the reason reaches the sink trimmed")
        }
        let idle = RunState() // no worker.started: nothing live
        let sink = RecordingSink()
        try await RouteFixture.withRouter(state: idle, sink: sink) { client in
            let reply = try await client.send("POST", "/process/kill", headers: [("Authorization", "Bearer ffk-route-key"),
                                                                                 ("Content-Type", "application/json")],
                                              body: reasonBody("nothing to kill"))
            #expect(reply.status == 409 && isError(reply))
        }
        #expect(sink.received.isEmpty)
    }

    /// openapi.yaml's `reason` pattern says which one-character reasons the server refuses as only whitespace:
    /// every scalar that any definition of whitespace names, and its neighbours, both ways (schemathesis found
    /// "\r" schema-valid and refused when the spec had only minLength).
    @Test func reasonPatternIsTheServersIdeaOfWhitespace() async throws {
        let pattern = try #require(OpenAPISpec.shared?.value(["components", "schemas", "ActionRequest", "properties", "reason", "pattern"]))
        let regex = try NSRegularExpression(pattern: pattern)
        let scalars = Array(0...0x21) + Array(0x7F...0xA1) + [0x1680, 0x180E, 0x3000, 0x3001, 0xFEFF, 0xFFFD] + Array(0x1FFF...0x2030)
            + Array(0x205E...0x2070)
        let sink = RecordingSink()
        try await RouteFixture.withRouter(sink: sink) { client in
            for value in scalars {
                let reason = String(Character(try #require(Unicode.Scalar(UInt32(value)))))
                let valid = regex.firstMatch(in: reason, range: NSRange(reason.startIndex..., in: reason)) != nil
                let reply = try await client.send("POST", "/process/kill", headers: [("Authorization", "Bearer ffk-route-key"),
                                                                                     ("Content-Type", "application/json")],
                                                  body: reasonBody(reason))
                #expect(valid ? reply.status == 202 : reply.status == 400, "U+\(String(value, radix: 16)): pattern \(valid ? "accepts" : "refuses"), server \(reply.status)")
            }
        }
    }

    /// Without any key, the process endpoints are 503 whatever the request; the rest of the API works.
    @Test func withoutAKeyProcessActionsAre503() async throws {
        let sink = RecordingSink()
        try await RouteFixture.withRouter(key: nil, sink: sink) { client in
            for path in ["/process/restart", "/process/kill"] {
                for headers in [[], [("Authorization", "Bearer anything"), ("Content-Type", "application/json")], [("Content-Type", "text/plain")]] {
                    let reply = try await client.send("POST", path, headers: headers, body: reasonBody("no key"))
                    #expect(reply.status == 503 && isError(reply), "\(path) \(headers): \(reply.status) \(reply.text)")
                }
            }
            let health = try await client.send("GET", "/healthz")
            let timeline = try await client.send("GET", "/timeline")
            #expect(health.status == 200 && timeline.status == 200)
        }
        #expect(sink.received.isEmpty)
    }

    /// `--require-key-for-reads`: /timeline, /runs and /metrics need the key (401; 503 without one configured);
    /// /healthz and the dashboard's files never do.
    @Test func readsCanRequireTheKey() async throws {
        try await RouteFixture.withRouter(requireKeyForReads: true) { client in
            for path in ["/timeline", "/runs", "/metrics"] {
                let without = try await client.send("GET", path)
                let with = try await client.send("GET", path, headers: [("Authorization", "Bearer ffk-route-key")])
                #expect(without.status == 401 && with.status == 200, "\(path): \(without.status) without the key, \(with.status) with it")
            }
            for path in ["/healthz", "/", "/dashboard/dashboard.js"] {
                let open = try await client.send("GET", path)
                #expect(open.status == 200, "\(path) stays open")
            }
        }
        try await RouteFixture.withRouter(key: nil, requireKeyForReads: true) { client in
            let timeline = try await client.send("GET", "/timeline")
            let health = try await client.send("GET", "/healthz")
            #expect(timeline.status == 503, "no key: reads fail closed")
            #expect(health.status == 200)
        }
    }
}
