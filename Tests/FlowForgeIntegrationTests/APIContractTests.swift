// FlowForge — the HTTP API against its contract (openapi.yaml), over real HTTP on loopback, with real runs.
// SPDX-License-Identifier: Apache-2.0
//
// How the contract is kept honest: every response these tests receive is checked against openapi.yaml as it is
// on disk (its path, method and status must be documented there, with the same media type and headers, and a
// JSON body must match the documented schema), and the schemas are checked against `APIContract.schemas`, a
// hand-kept Swift mirror of them, key by key and type by type. The spec is read with a small reader of the
// indentation of its mapping keys (no YAML library in this target); openapi.yaml keeps to what it can read.
import FlowForgeModel
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("HTTP API contract (openapi.yaml) over real HTTP", .serialized)
struct APIContractTests {
    // MARK: the spec itself

    /// Everything the tests exercise is in the spec; the spec's schemas equal the Swift mirror (both ways); the
    /// auth scheme, the security of each operation and the /timeline parameters are as documented.
    @Test(.timeLimit(.minutes(1)))
    func specDocumentsEverythingTheTestsExercise() throws {
        let spec = APIContract.spec
        try #require(!spec.entries.isEmpty, "cannot read \(APIContract.specPath)")
        #expect(spec.value(["openapi"])?.hasPrefix("3.1") == true)
        #expect(spec.value(["components", "securitySchemes", "bearerAuth", "type"]) == "http")
        #expect(spec.value(["components", "securitySchemes", "bearerAuth", "scheme"]) == "bearer")
        #expect(spec.has(["components", "responses", "NotFound"]) && !spec.has(["components", "responses", "NotFound", "content"]),
                "the router's default 404 is documented, without a body")

        #expect(spec.has(["components", "responses", "MethodNotAllowed", "headers", "Allow"]), "the 405 is documented once, with Allow")
        #expect(spec.has(["components", "responses", "WrongHost", "content"]), "the Host check's 421 is documented")
        for e in APIContract.exercised.sorted(by: { "\($0)" < "\($1)" }) where e.path != "*" && e.status != 405 && e.status != 421 {
            #expect(spec.documentedStatuses(e.method, e.path).contains(e.status), "\(e) is exercised but not in openapi.yaml")
        }
        for path in spec.children(["paths"]) {
            for method in spec.children(["paths", path]) {
                let security = spec.value(["paths", path, method, "security"]) ?? "(none)"
                #expect(spec.children(["paths", path]).count == 1, "\(path) lists one method: other methods are 405 (MethodNotAllowed)")
                if method == "post" && path.hasPrefix("/process/") {
                    #expect(security.contains("bearerAuth"), "\(method) \(path) needs the bearer key")
                } else {
                    #expect(security == "[]", "\(method) \(path) needs no key")
                }
            }
        }
        let limit = ["components", "parameters", "Limit"]
        #expect(spec.value(limit + ["name"]) == "limit" && spec.value(limit + ["in"]) == "query")
        #expect(spec.value(limit + ["schema", "type"]) == "integer")
        #expect(spec.value(limit + ["schema", "minimum"]) == "1" && spec.value(limit + ["schema", "maximum"]) == "1000")
        #expect(spec.value(limit + ["schema", "default"]) == "50")
        #expect(spec.value(["components", "parameters", "Before", "name"]) == "before")
        #expect(spec.value(["components", "parameters", "Before", "schema", "format"]) == "date-time")
        #expect(spec.value(["components", "parameters", "IncidentID", "name"]) == "incident_id")
        let timelineParameters = spec.value(["paths", "/timeline", "get", "parameters"]) ?? ""
        for name in ["Limit", "Before", "IncidentID"] {
            #expect(timelineParameters.contains("#/components/parameters/\(name)"), "/timeline does not use \(name)")
        }

        // The mirror and the spec's schemas, both ways.
        #expect(Set(spec.children(["components", "schemas"])) == Set(APIContract.schemas.keys),
                "schemas in openapi.yaml and APIContract.schemas differ")
        for (name, mirror) in APIContract.schemas.sorted(by: { $0.key < $1.key }) {
            let node = ["components", "schemas", name]
            switch mirror {
            case .array(let items):
                #expect(spec.value(node + ["type"]) == "array", "\(name)")
                #expect(spec.refName(node + ["items"]) == items, "\(name).items")
            case .object(let properties, let required, let additional):
                #expect(spec.value(node + ["type"]) == "object", "\(name)")
                #expect(Set(spec.children(node + ["properties"])) == Set(properties.keys), "\(name): properties differ")
                for (key, shape) in properties {
                    #expect(spec.shape(node + ["properties", key]) == shape, "\(name).\(key): spec \(String(describing: spec.shape(node + ["properties", key]))), mirror \(shape)")
                }
                #expect(Set(APIContract.Spec.flowList(spec.value(node + ["required"]))) == required, "\(name): required differs")
                #expect(spec.additionalProperties(node) == additional, "\(name): additionalProperties differs")
            }
        }
    }

    // MARK: the read endpoints

    /// /healthz, /metrics (every documented family with its labels and types; no counter before it counted),
    /// an empty /timeline, /runs listing this run, and the dashboard's files.
    @Test(.timeLimit(.minutes(1)))
    func healthMetricsAndDashboardAnswerAsDocumented() throws {
        let run = try APIRun()
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")

        let health = try run.request("GET", "/healthz")
        #expect(health.status == 200)
        #expect(try health.json() == .object(["status": .string("ok")]))

        #expect(eventually { (try? run.metrics())?.first("flowforge_worker_cpu_percent") != nil }, "no sample reached /metrics")
        let runID = try #require(run.runID)
        let reply = try run.request("GET", "/metrics")
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        let page = APIContract.Metrics(reply.text)
        #expect(page.malformed.isEmpty, "unparseable exposition lines: \(page.malformed)")
        for sample in page.samples {
            #expect(page.types[sample.name] != nil, "\(sample.name) has no # TYPE line")
        }
        let uptime = try #require(page.first("flowforge_uptime_seconds"))
        #expect(uptime.labels.isEmpty && uptime.value >= 0)
        #expect(page.types["flowforge_uptime_seconds"] == "gauge")
        let build = try #require(page.first("flowforge_build_info"))
        #expect(build.value == 1 && build.labels["version"]?.isEmpty == false, "\(build)")
        for name in ["flowforge_worker_cpu_percent", "flowforge_worker_resident_bytes", "flowforge_worker_processes",
                     "flowforge_worker_up", "flowforge_analysis_dropped_bytes"] {
            let sample = try #require(page.first(name, ["run": runID]), "\(name){run=\"\(runID)\"} missing:\n\(reply.text)")
            #expect(page.types[name] == "gauge", "\(name)")
            #expect(sample.value >= 0, "\(name)")
        }
        #expect(page.first("flowforge_worker_up", ["run": runID])?.value == 1)
        #expect((page.first("flowforge_worker_resident_bytes", ["run": runID])?.value ?? 0) > 0)
        #expect((page.first("flowforge_worker_processes", ["run": runID])?.value ?? 0) >= 1)
        for counter in ["flowforge_incidents_total", "flowforge_actions_total", "flowforge_restarts_total"] {
            #expect(page.first(counter) == nil, "\(counter) before it counted anything")
        }

        let timeline = try run.request("GET", "/timeline")
        #expect(timeline.status == 200)
        #expect(try timeline.json() == .array([]), "a fresh run has no incidents")

        let runs = try run.request("GET", "/runs")
        #expect(runs.status == 200)
        let listed = try #require(try runs.json().array)
        #expect(listed.count == 1, "a run's API lists its own run: \(listed)")
        #expect(listed.first?["run_id"]?.string == runID)
        #expect(listed.first?["live"] == .bool(true))
        #expect(listed.first?["generation"]?.double == 1)
        #expect(listed.first?["pid"]?.double == run.worker().map(Double.init), "\(listed)")

        let index = try run.request("GET", "/")
        #expect(index.status == 200 && index.mediaType == "text/html" && !index.body.isEmpty)
        let file = try run.request("GET", "/dashboard/index.html")
        #expect(file.status == 200 && file.body == index.body)
        let missing = try run.request("GET", "/dashboard/no-such-file.js")
        #expect(missing.status == 404)
        run.expectKeyNotLeaked()
    }

    /// limit and before are validated (400, JSON error), incident_id is looked up (404, JSON error) and wins over
    /// the other parameters.
    @Test(.timeLimit(.minutes(1)))
    func timelineValidatesItsQuery() throws {
        let run = try APIRun()
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        for query in ["limit=1", "limit=1000", "limit=50&before=2026-01-01T00:00:00.000Z",
                      "before=2026-01-01T00:00:00.5%2B01:00", "before=2099-12-31T23:59:59.999999Z"] {
            let reply = try run.request("GET", "/timeline?" + query)
            #expect(reply.status == 200, "\(query): \(reply.text)")
            #expect(try reply.json() == .array([]), "\(query)")
        }
        for query in ["limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1.5", "limit=", "before=garbage",
                      "before=2026-13-01T00:00:00.000Z", "before=", "limit=0&before=2026-01-01T00:00:00.000Z"] {
            let reply = try run.request("GET", "/timeline?" + query)
            #expect(reply.status == 400, "\(query): \(reply.status) \(reply.text)")
            #expect(APIContract.errorText(reply) != nil, "\(query): not a JSON error: \(reply.text)")
        }
        for query in ["incident_id=nope", "incident_id=", "incident_id=nope&limit=0", "incident_id=nope&before=garbage"] {
            let reply = try run.request("GET", "/timeline?" + query)
            #expect(reply.status == 404, "\(query): \(reply.status) \(reply.text)")
            #expect(APIContract.errorText(reply) != nil, "\(query): not a JSON error: \(reply.text)")
        }
        // RFC 3339 allows whole seconds.
        let wholeSeconds = try run.request("GET", "/timeline?before=2026-01-01T00:00:00Z")
        #expect(wholeSeconds.status == 200, "\(wholeSeconds.text)")
        run.expectKeyNotLeaked()
    }

    /// Other methods on the known paths: 405, a JSON error, and an Allow header naming the one method.
    @Test(.timeLimit(.minutes(1)))
    func otherMethodsOnKnownPathsAre405WithAllow() throws {
        let run = try APIRun()
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let cases: [(paths: [String], methods: [String], allow: String)] = [
            (["/healthz", "/metrics", "/timeline", "/runs"], ["POST", "PUT", "DELETE", "PATCH"], "GET"),
            (["/process/restart", "/process/kill"], ["GET", "PUT", "DELETE", "PATCH"], "POST"),
        ]
        for c in cases {
            for path in c.paths {
                for method in c.methods {
                    let reply = try run.request(method, path, headers: run.authorized, body: APIContract.reasonBody("must not act"))
                    #expect(reply.status == 405, "\(method) \(path): \(reply.status)")
                    #expect(reply.headers["allow"] == c.allow, "\(method) \(path)")
                    #expect(APIContract.errorText(reply) != nil, "\(method) \(path): \(reply.text)")
                }
            }
        }
        #expect(try run.timeline().isEmpty, "a 405 must not act")
        run.expectKeyNotLeaked()
    }

    /// A path the router does not know: Hummingbird's default 404, empty, without a Content-Type (documented as
    /// such; it is not an Error object).
    @Test(.timeLimit(.minutes(1)))
    func unknownPathsGetTheRouterDefault404() throws {
        let run = try APIRun()
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        for (method, path) in [("GET", "/nope"), ("POST", "/nope"), ("GET", "/process"), ("GET", "/healthz/extra"),
                               ("POST", "/process/restart/now")] {
            let reply = try run.request(method, path, headers: run.authorized, body: APIContract.reasonBody("must not act"))
            #expect(reply.status == 404, "\(method) \(path)")
            #expect(reply.body.isEmpty && reply.headers["content-type"] == nil, "\(method) \(path): \(reply.headers) \(reply.text)")
        }
        run.expectKeyNotLeaked()
    }

    // MARK: the process endpoints' refusals

    /// 401, 415, 413, 400 and a 409 (another run's id) for both process endpoints, the order of the checks, and
    /// none of them acts.
    @Test(.timeLimit(.minutes(1)))
    func processEndpointsRefuseBadRequestsWithoutActing() throws {
        let run = try APIRun(options: ["--grace", "1", "--sample-interval", "0.25", "--log-level", "debug"])
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let key = try #require(run.key)
        let worker = try #require(run.worker())
        let json = ("Content-Type", "application/json")
        let good = APIContract.reasonBody("must not act")
        let oversized = Data(("{\"reason\":\"" + String(repeating: "x", count: 16_385 - 13) + "\"}").utf8)
        #expect(oversized.count == 16_385)
        let atLimit = Data(("{\"reason\":\"" + String(repeating: "x", count: 16_384 - 13) + "\"}").utf8)
        #expect(atLimit.count == 16_384)

        for path in ["/process/restart", "/process/kill"] {
            func refused(_ status: Int, _ headers: [(String, String)], _ body: Data?, chunked: Bool = false, _ why: String,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
                let reply = try run.request("POST", path, headers: headers, body: body, chunked: chunked, sourceLocation: sourceLocation)
                #expect(reply.status == status, "\(path), \(why): \(reply.status) \(reply.text)", sourceLocation: sourceLocation)
                #expect(APIContract.errorText(reply) != nil, "\(path), \(why): not a JSON error: \(reply.text)", sourceLocation: sourceLocation)
            }
            // 401: no key, or not exactly the key; checked before anything else is looked at.
            try refused(401, [json], good, "no Authorization")
            try refused(401, [("Authorization", "Bearer wrong-\(key)"), json], good, "wrong key")
            try refused(401, [("Authorization", "Bearer \(key)x"), json], good, "key with a suffix")
            try refused(401, [("Authorization", "Bearer \(key.dropLast())"), json], good, "a prefix of the key")
            try refused(401, [("Authorization", "Bearer "), json], good, "empty key")
            try refused(401, [("Authorization", "Basic \(Data("flowforge:\(key)".utf8).base64EncodedString())"), json], good, "Basic scheme")
            try refused(401, [("Authorization", key), json], good, "no scheme")
            try refused(401, [("Content-Type", "text/plain")], good, "no key and a wrong type: 401 first")
            try refused(401, [json], oversized, "no key and too large: 401 first")
            // 415: the media type must be application/json (parameters and case aside).
            let auth = ("Authorization", "Bearer \(key)")
            try refused(415, [auth], good, "no Content-Type")
            try refused(415, [auth, ("Content-Type", "text/plain")], good, "text/plain")
            try refused(415, [auth, ("Content-Type", "application/x-www-form-urlencoded")], Data("reason=x".utf8), "a form")
            try refused(415, [auth, ("Content-Type", "application/jsonx")], good, "application/jsonx")
            try refused(415, [auth, ("Content-Type", "text/plain")], oversized, "a wrong type and too large: 415 first")
            // 413: over 16 KiB, by Content-Length or by what a chunked body brings.
            try refused(413, run.authorized, oversized, "Content-Length 16385")
            try refused(413, run.authorized, Data(count: 20_000), chunked: true, "a 20000-byte chunked body")
            // 400: not a JSON object, no string reason, empty, or longer than 1024 bytes once trimmed.
            try refused(400, run.authorized, atLimit, "16384 bytes is not too large, but the reason is too long")
            try refused(400, run.authorized, Data(), "an empty body")
            try refused(400, run.authorized, Data("{bad".utf8), "malformed JSON")
            try refused(400, run.authorized, Data("[1]".utf8), "an array")
            try refused(400, run.authorized, Data("\"reason\"".utf8), "a string")
            try refused(400, run.authorized, Data("{}".utf8), "no reason")
            try refused(400, run.authorized, Data("{\"why\":\"x\"}".utf8), "another key")
            try refused(400, run.authorized, Data("{\"reason\":5}".utf8), "a number")
            try refused(400, run.authorized, Data("{\"reason\":null}".utf8), "null")
            try refused(400, run.authorized, Data("{\"reason\":[\"x\"]}".utf8), "an array reason")
            try refused(400, run.authorized, APIContract.reasonBody(""), "an empty reason")
            try refused(400, run.authorized, APIContract.reasonBody(" \n\t  "), "a whitespace reason")
            try refused(400, run.authorized, APIContract.reasonBody(String(repeating: "x", count: 1025)), "1025 bytes")
            try refused(400, run.authorized, APIContract.reasonBody(String(repeating: "é", count: 513)), "513 characters, 1026 bytes")
            try refused(400, [auth, ("Content-Type", "Application/JSON; charset=utf-8")], APIContract.reasonBody(""),
                       "the type check ignores case and parameters; then the empty reason is a 400")
            try refused(400, run.authorized, APIContract.reasonBody(""), chunked: true, "a chunked body is read")
            try refused(400, run.authorized, Data("{\"reason\":\"x\",\"run_id\":5}".utf8), "a run_id that is not a string")
            // 409: a run_id that is not this (live) run.
            try refused(409, run.authorized, Data("{\"reason\":\"must not act\",\"run_id\":\"r-no-such-run\"}".utf8), "another run's id")
        }
        #expect(run.ff.process.isRunning)
        #expect(run.worker() == worker && isAlive(worker), "a refused request must not touch the worker")
        #expect(try run.timeline().isEmpty, "a refused request must not open an incident")
        run.expectKeyNotLeaked()
    }

    /// Without any key, the process endpoints are 503 whatever the request; the rest of the API works.
    @Test(.timeLimit(.minutes(1)))
    func withoutAKeyProcessActionsAre503() throws {
        let run = try APIRun(key: nil)
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let worker = try #require(run.worker())
        for path in ["/process/restart", "/process/kill"] {
            for headers in [[], [("Authorization", "Bearer anything"), ("Content-Type", "application/json")], [("Content-Type", "text/plain")]] {
                let reply = try run.request("POST", path, headers: headers, body: APIContract.reasonBody("no key"))
                #expect(reply.status == 503, "\(path) \(headers): \(reply.status)")
                #expect(APIContract.errorText(reply) != nil, "\(reply.text)")
            }
        }
        #expect(try run.request("GET", "/healthz").status == 200)
        #expect(try run.request("GET", "/timeline").status == 200)
        #expect(run.ff.stderr.contains("process endpoints are disabled"), "\(run.ff.stderr)")
        #expect(run.worker() == worker && isAlive(worker))
    }

    /// The key can come from the state directory's api.key (mode 0600) instead of FLOWFORGE_API_KEY.
    @Test(.timeLimit(.minutes(1)))
    func keyFromTheStateDirectoryFileIsAccepted() throws {
        let run = try APIRun(keyInFile: true)
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let worker = try #require(run.worker())
        let wrong = try run.request("POST", "/process/restart", headers: [("Authorization", "Bearer not-the-file-key"),
                                                                          ("Content-Type", "application/json")],
                                    body: APIContract.reasonBody("wrong key"))
        #expect(wrong.status == 401)
        let right = try run.act("restart", reason: "key from api.key")
        #expect(right.status == 202, "\(right.text)")
        #expect(eventually { run.worker().map { $0 != worker } ?? false }, "no new worker after a 202")
        run.expectKeyNotLeaked()
    }

    // MARK: operator actions

    /// An operator restart: 202 with the documented body, a new worker pid, and an operator incident whose
    /// drilldown holds the request (with the reason), the teardown and the next generation's start. The key
    /// never reaches the worker.
    @Test(.timeLimit(.minutes(1)))
    func operatorRestartStartsANewWorkerAndRecordsAnIncident() throws {
        let run = try APIRun()
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let key = try #require(run.key)
        let runID = try #require(run.runID)
        let before = try #require(run.worker())
        let reason = "contract test: restart, please"

        let reply = try run.act("restart", reason: reason)
        #expect(reply.status == 202, "\(reply.text)")
        let accepted = try reply.json()
        let actionID = try #require(accepted["action_id"]?.string)
        let incidentID = try #require(accepted["incident_id"]?.string)
        #expect(!actionID.isEmpty && actionID.allSatisfy(\.isNumber))
        #expect(incidentID == "\(runID)-op\(actionID)")
        #expect(accepted["status"]?.string == "accepted")
        #expect(accepted["detail"]?.string?.contains("generation 1") == true, "\(accepted)")

        #expect(eventually { run.worker().map { $0 != before } ?? false }, "no new worker: \(run.ff.stderr)")
        let after = try #require(run.worker())
        #expect(after != before && isAlive(after))
        #expect(eventually(timeout: 3) { !isAlive(before) }, "the old worker survived its restart")
        #expect(run.ff.process.isRunning)
        let environ = String(decoding: FileManager.default.contents(atPath: "/proc/\(after)/environ") ?? Data(), as: UTF8.self)
        #expect(!environ.isEmpty && !environ.contains(key) && !environ.contains("FLOWFORGE_API_KEY="), "the key reached the worker")

        #expect(eventually { (try? run.drilldown(incidentID))?.contains { $0["kind"]?.string == "worker.started" } ?? false },
                "the drilldown never showed the next worker")
        let incidents = try run.timeline()
        let summary = try #require(incidents.first { $0["id"]?.string == incidentID }, "\(incidents)")
        #expect(summary["operator"] == .bool(true))
        #expect(summary["action"]?.string == "restart")
        #expect(summary["rollout_mode"]?.string == "operator")
        #expect(summary["worker"]?.string == "operator")
        #expect(summary["reason"]?.string == reason)
        #expect(summary["run_id"]?.string == runID)
        #expect(summary["peak_scores"] == .object([:]))
        let start = summary["start"]?.string ?? "", end = summary["end"]?.string ?? ""
        #expect(start <= end, "start \(start), end \(end)")

        let events = try run.drilldown(incidentID)
        let own = events.filter { $0["kind"]?.string != "sample" }
        #expect(own.allSatisfy { $0["incident_id"]?.string == incidentID }, "\(own)")
        #expect(events.filter { $0["kind"]?.string == "sample" }.allSatisfy { $0["incident_id"] == nil })
        let seqs = events.compactMap { $0["seq"]?.double }
        #expect(seqs.count == events.count && zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 }, "not in seq order: \(seqs)")
        let order = own.compactMap { $0["kind"]?.string }
        for kind in ["action.requested", "policy.decision", "teardown.started", "worker.exited", "teardown.finished", "worker.started"] {
            #expect(order.contains(kind), "\(kind) missing from \(order)")
        }
        let positions = ["action.requested", "teardown.started", "teardown.finished", "worker.started"].compactMap { order.firstIndex(of: $0) }
        #expect(positions == positions.sorted() && positions.count == 4, "out of order: \(order)")
        let requested = try #require(own.first { $0["kind"]?.string == "action.requested" })
        #expect(requested["reason"]?.string == reason)
        #expect(requested["fields"]?["reason"]?.string == reason)
        #expect(requested["fields"]?["by"]?.string == "api")
        #expect(requested["fields"]?["kind"]?.string == "restart")
        #expect(requested["generation"]?.double == 1)
        let decision = try #require(own.first { $0["kind"]?.string == "policy.decision" })
        #expect(decision["fields"]?["mode"]?.string == "operator" && decision["fields"]?["decision"]?.string == "restart")
        let started = try #require(own.first { $0["kind"]?.string == "worker.started" })
        #expect(started["generation"]?.double == 2)
        #expect(started["fields"]?["pid"]?.double == Double(after), "\(started)")

        #expect(eventually { (try? run.metrics())?.first("flowforge_restarts_total", ["run": runID])?.value == 1 })
        let metrics = try run.metrics()
        #expect(metrics.first("flowforge_actions_total", ["run": runID, "kind": "restart", "mode": "operator"])?.value == 1)
        #expect(metrics.types["flowforge_restarts_total"] == "counter" && metrics.types["flowforge_actions_total"] == "counter")
        #expect(metrics.first("flowforge_worker_up", ["run": runID])?.value == 1)
        let runs = try #require(try run.request("GET", "/runs").json().array)
        #expect(runs.first?["generation"]?.double == 2 && runs.first?["pid"]?.double == Double(after), "\(runs)")
        run.expectKeyNotLeaked()
    }

    /// Three operator incidents come newest first; limit cuts, and `before` = the last start pages through them
    /// once each. A 1024-byte reason (after trimming) is accepted.
    @Test(.timeLimit(.minutes(1)))
    func timelinePagesIncidentsNewestFirst() throws {
        let run = try APIRun()
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let longest = String(repeating: "r", count: 1024)
        let runID = try #require(run.runID)
        var ids: [String] = []
        for reason in ["first", "  \(longest)\n", "third"] {
            let worker = try #require(run.worker())
            // The third names its run, which a run's own API accepts.
            let reply = reason == "third"
                ? try run.request("POST", "/process/restart", headers: run.authorized,
                                  body: (try? JSONSerialization.data(withJSONObject: ["reason": reason, "run_id": runID])) ?? Data())
                : try run.act("restart", reason: reason)
            #expect(reply.status == 202, "\(reply.text)")
            ids.append(try #require(try reply.json()["incident_id"]?.string))
            #expect(eventually { run.worker().map { $0 != worker } ?? false }, "no new worker after '\(reason.prefix(20))'")
        }
        #expect(eventually { (try? run.timeline())?.count == 3 })
        let all = try run.timeline()
        #expect(all.compactMap { $0["id"]?.string } == ids.reversed(), "\(all)")
        let starts = all.compactMap { $0["start"]?.string }
        #expect(starts == starts.sorted(by: >) && Set(starts).count == 3, "\(starts)")
        #expect(all.first { $0["id"]?.string == ids[1] }?["reason"]?.string == longest, "the reason is trimmed, not cut")

        #expect(try run.timeline("?limit=2").compactMap { $0["id"]?.string } == Array(ids.reversed().prefix(2)))
        var paged: [String] = []
        var cursor: String?
        for _ in 0..<5 {
            let page = try run.timeline("?limit=1" + (cursor.map { "&before=" + APIContract.queryEncoded($0) } ?? ""))
            guard let item = page.first else { break }
            #expect(page.count == 1)
            paged.append(item["id"]?.string ?? "?")
            cursor = item["start"]?.string
        }
        #expect(paged == ids.reversed(), "paging by before= gave \(paged)")
        run.expectKeyNotLeaked()
    }

    /// While a teardown runs, further actions are 409 (JSON error), FlowForge goes on, and the accepted
    /// restart completes.
    @Test(.timeLimit(.minutes(1)))
    func actionsDuringATeardownAre409() throws {
        let run = try APIRun(options: ["--grace", "2", "--sample-interval", "0.25"],
                             worker: ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.2; done"])
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let worker = try #require(run.worker())
        let first = try run.act("restart", reason: "slow teardown")
        #expect(first.status == 202, "\(first.text)")
        let incidentID = try #require(try first.json()["incident_id"]?.string)
        for action in ["restart", "kill"] {
            let reply = try run.act(action, reason: "while tearing down")
            #expect(reply.status == 409, "\(action) during a teardown: \(reply.status) \(reply.text)")
            #expect(APIContract.errorText(reply) != nil, "\(reply.text)")
        }
        #expect(eventually(timeout: 15) { run.worker().map { $0 != worker } ?? false }, "the accepted restart never finished")
        #expect(run.ff.process.isRunning, "a refused kill must not stop FlowForge")
        // A refused request must not retag the running incident: the accepted restart keeps its whole chain.
        let whole = eventually(timeout: 5) {
            let seen = (try? run.drilldown(incidentID))?.compactMap { $0["kind"]?.string } ?? []
            return seen.contains("teardown.finished") && seen.contains("worker.started")
        }
        #expect(whole, "the drilldown of \(incidentID) lacks its teardown.finished / worker.started")
        run.expectKeyNotLeaked()
    }

    /// An operator kill: 202, the whole tree goes (found by its environment marker), FlowForge exits 120, and the
    /// run's spool records the operator incident.
    @Test(.timeLimit(.minutes(1)))
    func operatorKillRemovesTheWholeTreeAndExits120() throws {
        let run = try APIRun(worker: ["sh", "-c", "sleep 300 & sleep 300 & echo ready; wait"])
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let runID = try #require(run.runID)
        // The worker's tree: what carries the marker except the reaper and its spawner (sh and two sleeps).
        func tree() -> [Int32] {
            let spawner = run.ff.child(named: "flowforge-reaper")
            return processes(withMarker: run.marker).filter { $0 != run.ff.pid && $0 != spawner }
        }
        #expect(eventually { run.ff.stdout.contains("ready") && tree().count >= 3 }, "the tree never formed: \(tree())")
        let before = tree()
        let reason = "contract test: kill it all"

        // The 202 must reach the client even though the kill ends the run (the agent lingers, the reaper waits).
        let reply = try run.call("POST", "/process/kill", headers: run.authorized, body: APIContract.reasonBody(reason))
        run.check(reply, "POST", "/process/kill")
        #expect(reply.status == 202, "\(reply.text)")
        #expect((try? reply.json())?["incident_id"]?.string == "\(runID)-op1")
        #expect(run.ff.waitForExit(timeout: 20), "FlowForge did not exit after the kill")
        #expect(run.ff.exitCode == 120)
        #expect(eventually(timeout: 3) { processes(withMarker: run.marker).isEmpty }, "survivors: \(processes(withMarker: run.marker))")
        #expect(before.allSatisfy { !isAlive($0) })

        let spool = try #require(run.spoolPath)
        let events = readEvents(spool)
        let incident = "\(runID)-op1"
        let requested = try #require(events.first { $0["kind"] as? String == "action.requested" }, "\(kinds(events))")
        #expect(requested["incident_id"] as? String == incident)
        #expect(fields(requested)["by"] as? String == "api" && fields(requested)["kind"] as? String == "kill")
        #expect(fields(requested)["reason"] as? String == reason)
        #expect(events.contains { $0["kind"] as? String == "teardown.finished" && $0["incident_id"] as? String == incident },
                "\(kinds(events))")
        #expect(!events.contains { $0["kind"] as? String == "worker.started" && ($0["generation"] as? Int ?? 0) > 1 }, "a kill must not restart")
        run.expectKeyNotLeaked()
    }

    // MARK: detector incidents and counters

    /// A detector incident (--on-runaway log): listed with its scores, not an operator's; its drilldown has the
    /// incident's events and the samples before it; the incident and action counters count it.
    @Test(.timeLimit(.minutes(1)))
    func detectorIncidentsAreListedWithTheirScores() throws {
        // A low CPU threshold: this is about how the API shows an incident, not about detection on a busy machine.
        let run = try APIRun(options: fast + ["--on-runaway", "log", "--max-cpu", "30"], worker: spinningWorker)
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let runID = try #require(run.runID)
        #expect(eventually(timeout: 25) { !((try? run.timeline()) ?? []).isEmpty }, "no incident: \(run.ff.stderr)")
        let summary = try #require(try run.timeline().last)
        let id = try #require(summary["id"]?.string)
        #expect(summary["operator"] == .bool(false) && !id.contains("-op"))
        #expect(id.hasPrefix(runID + "-"))
        #expect(summary["action"]?.string == "log")
        #expect(summary["reason"]?.string?.contains("CPU") == true, "\(summary)")
        #expect(summary["worker"]?.string?.isEmpty == false, "\(summary)")
        let peak = try #require(summary["peak_scores"])
        #expect((peak["cpu_percent"]?.double ?? 0) > 0, "\(peak)")
        #expect((0...1).contains(peak["confidence"]?.double ?? -1), "\(peak)")
        #expect((peak["entropy"]?.double ?? -1) >= 0, "\(peak)")

        let events = try run.drilldown(id)
        let opened = try #require(events.first { $0["kind"]?.string == "incident.opened" }, "\(events.compactMap { $0["kind"]?.string })")
        #expect(opened["incident_id"]?.string == id)
        #expect(opened["reason"]?.string == summary["reason"]?.string)
        #expect(opened["scores"]?["cpu_percent"]?.double != nil, "\(opened)")
        let samples = events.filter { $0["kind"]?.string == "sample" }
        #expect(!samples.isEmpty, "the drilldown carries the samples before the incident")
        #expect(samples.allSatisfy { $0["generation"] == opened["generation"] && $0["incident_id"] == nil })

        #expect(eventually { (try? run.metrics())?.first("flowforge_incidents_total", ["run": runID]) != nil })
        let metrics = try run.metrics()
        #expect((metrics.first("flowforge_incidents_total", ["run": runID])?.value ?? 0) >= 1)
        #expect(metrics.first("flowforge_incidents_total", ["run": runID])?.labels["kind"]?.isEmpty == false)
        #expect((metrics.first("flowforge_actions_total", ["run": runID, "kind": "log"])?.value ?? 0) >= 1, "\(metrics.samples)")
        #expect(metrics.types["flowforge_incidents_total"] == "counter")
        // Under load libdispatch's workqueue monitor opens /proc/<tid>/stat: the api policy allows read-only opens.
        #expect(run.apiAgentExits.isEmpty, "\(run.apiAgentExits)")
        run.expectKeyNotLeaked()
    }

    /// An agent that dies (here the detector, made to hit its seccomp filter) is counted per agent.
    @Test(.timeLimit(.minutes(1)))
    func agentRespawnsAreCounted() throws {
        let run = try APIRun(env: ["FLOWFORGE_TEST_FORBIDDEN_SYSCALL": "detector"])
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let runID = try #require(run.runID)
        #expect(eventually(timeout: 15) {
            ((try? run.metrics())?.first("flowforge_agent_respawns_total", ["run": runID, "agent": "detector"])?.value ?? 0) >= 1
        }, "\((try? run.metrics())?.samples ?? [])")
        #expect(try run.metrics().types["flowforge_agent_respawns_total"] == "counter")
        run.expectKeyNotLeaked()
    }
}

// MARK: - a run under test

/// A `flowforge run --listen 127.0.0.1:<free port>` with its own state directory, key and process marker.
final class APIRun {
    let ff: Supervised
    let port: UInt16
    /// The right key, or nil when the run has none.
    let key: String?
    let stateDir: String
    let marker: String

    /// - Parameters:
    ///   - key: the API key (nil: none at all, so the process endpoints are 503).
    ///   - keyInFile: put the key in the state directory's api.key instead of FLOWFORGE_API_KEY.
    init(key: String? = "ffk-\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))", keyInFile: Bool = false,
         options: [String] = ["--grace", "1", "--sample-interval", "0.25"], env extra: [String: String] = [:],
         worker: [String] = ["sh", "-c", "echo ready; exec sleep 300"]) throws {
        stateDir = NSTemporaryDirectory() + "ff-api-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        if keyInFile, let key {
            let path = stateDir + "/api.key"
            try Data((key + "\n").utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        }
        self.key = key
        port = try APIContract.freePort()
        marker = "api-\(getpid())-\(UUID().uuidString.prefix(8))"
        var env = ["FLOWFORGE_STATE_DIR": stateDir, "FLOWFORGE_API_KEY": keyInFile ? "" : (key ?? ""), "FLOWFORGE_TEST_MARKER": marker]
        for (k, v) in extra { env[k] = v }
        ff = try Supervised(["--listen", "127.0.0.1:\(port)"] + options + ["--"] + worker, env: env)
    }

    deinit {
        if ff.process.isRunning {
            ff.signal(SIGTERM)
            if !ff.waitForExit(timeout: 10) {
                ff.signal(SIGKILL)
                _ = ff.waitForExit(timeout: 5)
            }
        }
        killMarked(marker)
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    var authorized: [(String, String)] { [("Authorization", "Bearer \(key ?? "")"), ("Content-Type", "application/json")] }

    /// The run's spool (`<state>/runs/<run id>.jsonl`) and so its id.
    var spoolPath: String? {
        let runs = stateDir + "/runs"
        return ((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).first { $0.hasSuffix(".jsonl") }.map { runs + "/" + $0 }
    }

    var runID: String? { spoolPath.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension } }

    func worker() -> Int32? { ff.worker() }

    func waitUntilServing(timeout: Double = 15) -> Bool {
        eventually(timeout: timeout) { (try? call("GET", "/healthz"))?.status == 200 }
    }

    /// One request, nothing checked.
    func call(_ method: String, _ target: String, headers: [(String, String)] = [], body: Data? = nil, chunked: Bool = false) throws -> APIContract.Reply {
        try APIContract.request(port: port, method: method, target: target, headers: headers, body: body, chunked: chunked)
    }

    /// One request, its answer checked against openapi.yaml, and the key looked for in it.
    @discardableResult
    func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: Data? = nil, chunked: Bool = false,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> APIContract.Reply {
        let reply = try call(method, target, headers: headers, body: body, chunked: chunked)
        check(reply, method, target, sourceLocation: sourceLocation)
        return reply
    }

    func check(_ reply: APIContract.Reply, _ method: String, _ target: String, sourceLocation: SourceLocation = #_sourceLocation) {
        APIContract.check(reply, method: method, target: target, sourceLocation: sourceLocation)
        if let key {
            #expect(!reply.text.contains(key), "\(method) \(target) answered with the key", sourceLocation: sourceLocation)
            for (name, value) in reply.headers {
                #expect(!value.contains(key), "\(method) \(target): header \(name) carries the key", sourceLocation: sourceLocation)
            }
        }
    }

    /// POST /process/<action> with the key and a reason.
    func act(_ action: String, reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> APIContract.Reply {
        try request("POST", "/process/\(action)", headers: authorized, body: APIContract.reasonBody(reason), sourceLocation: sourceLocation)
    }

    /// GET /timeline<query>, which must be a 200 array.
    func timeline(_ query: String = "", sourceLocation: SourceLocation = #_sourceLocation) throws -> [APIContract.JSON] {
        let reply = try request("GET", "/timeline" + query, sourceLocation: sourceLocation)
        guard reply.status == 200, let list = try reply.json().array else {
            throw APIContract.Failure("GET /timeline\(query): \(reply.status) \(reply.text)")
        }
        if !query.contains("incident_id=") {
            #expect(APIContract.problems(.array(list), schema: "IncidentList").isEmpty, sourceLocation: sourceLocation)
        }
        return list
    }

    /// One incident's drilldown, which must be a 200 EventList.
    func drilldown(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [APIContract.JSON] {
        let list = try timeline("?incident_id=" + APIContract.queryEncoded(id), sourceLocation: sourceLocation)
        let problems = APIContract.problems(.array(list), schema: "EventList")
        #expect(problems.isEmpty, "\(problems.prefix(5))", sourceLocation: sourceLocation)
        return list
    }

    func metrics(sourceLocation: SourceLocation = #_sourceLocation) throws -> APIContract.Metrics {
        let reply = try request("GET", "/metrics", sourceLocation: sourceLocation)
        guard reply.status == 200 else { throw APIContract.Failure("GET /metrics: \(reply.status)") }
        return APIContract.Metrics(reply.text)
    }

    /// FlowForge's reports of the API agent exiting (the reaper respawns it).
    var apiAgentExits: [String] {
        ff.stderr.split(separator: "\n").filter { $0.contains("api agent (pid") && $0.contains(") exited") }.map(String.init)
    }

    /// The key is in neither FlowForge's stderr nor its stdout (the worker's passthrough).
    func expectKeyNotLeaked(sourceLocation: SourceLocation = #_sourceLocation) {
        guard let key else { return }
        #expect(!ff.stderr.contains(key), "FlowForge's stderr carries the API key", sourceLocation: sourceLocation)
        #expect(!ff.stdout.contains(key), "the passthrough carries the API key", sourceLocation: sourceLocation)
    }
}

// MARK: - the contract: spec, schema mirror, checks

enum APIContract {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static let specPath = packageRoot + "/openapi.yaml"
    static let spec = Spec(text: (try? String(contentsOfFile: specPath, encoding: .utf8)) ?? "")

    /// (method, path template, status) triples the tests exercise; "*" is any path the router does not know.
    /// Every response the tests receive must be one of these, and each must be documented in openapi.yaml.
    struct Exercise: Hashable, Sendable, CustomStringConvertible {
        let method: String, path: String, status: Int
        var description: String { "\(method) \(path) \(status)" }
    }

    static let exercised: Set<Exercise> = {
        var out: Set<Exercise> = [
            Exercise(method: "GET", path: "/healthz", status: 200),
            Exercise(method: "GET", path: "/metrics", status: 200),
            Exercise(method: "GET", path: "/timeline", status: 200),
            Exercise(method: "GET", path: "/timeline", status: 400),
            Exercise(method: "GET", path: "/timeline", status: 404),
            Exercise(method: "GET", path: "/runs", status: 200),
            Exercise(method: "GET", path: "/", status: 200),
            Exercise(method: "GET", path: "/dashboard/{file}", status: 200),
            Exercise(method: "GET", path: "/dashboard/{file}", status: 404),
            Exercise(method: "GET", path: "*", status: 404),
            Exercise(method: "POST", path: "*", status: 404),
        ]
        for path in ["/healthz", "/metrics", "/timeline", "/runs"] {
            for method in ["POST", "PUT", "DELETE", "PATCH"] { out.insert(Exercise(method: method, path: path, status: 405)) }
        }
        // --require-key-for-reads (HTTPBoundaryTests).
        for path in ["/metrics", "/timeline", "/runs"] {
            for status in [401, 503] { out.insert(Exercise(method: "GET", path: path, status: status)) }
        }
        for path in ["/process/restart", "/process/kill"] {
            for method in ["GET", "PUT", "DELETE", "PATCH"] { out.insert(Exercise(method: method, path: path, status: 405)) }
            for status in [202, 400, 401, 409, 413, 415, 503] { out.insert(Exercise(method: "POST", path: path, status: status)) }
        }
        return out
    }()

    // MARK: the schema mirror (keep equal to components.schemas in openapi.yaml; a test compares them)

    enum Shape: Equatable, Sendable, CustomStringConvertible {
        case string, dateTime, integer, number, boolean, stringOrNumber, stringArray, any
        case ref(String)
        var description: String {
            switch self {
            case .string: "string"
            case .dateTime: "date-time string"
            case .integer: "integer"
            case .number: "number"
            case .boolean: "boolean"
            case .stringOrNumber: "string or number"
            case .stringArray: "array of strings"
            case .any: "anything"
            case .ref(let name): name
            }
        }
    }

    enum Schema: Sendable {
        /// `additional`: the shape of keys not listed, nil when they are not allowed.
        case object([String: Shape], required: Set<String>, additional: Shape?)
        case array(items: String)
    }

    static let schemas: [String: Schema] = [
        "Health": .object(["status": .string], required: ["status"], additional: nil),
        "Error": .object(["error": .string, "live_runs": .stringArray], required: ["error"], additional: nil),
        "ActionRequest": .object(["reason": .string, "run_id": .string], required: ["reason"], additional: .any),
        "ActionAccepted": .object(["action_id": .string, "incident_id": .string, "status": .string, "detail": .string],
                                  required: ["action_id", "incident_id", "status", "detail"], additional: nil),
        "PeakScores": .object(["cpu_percent": .number, "confidence": .number, "entropy": .number], required: [], additional: nil),
        "IncidentSummary": .object(["id": .string, "run_id": .string, "name": .string, "worker": .string, "start": .dateTime, "end": .dateTime,
                                    "action": .string, "rollout_mode": .string, "operator": .boolean, "reason": .string,
                                    "peak_scores": .ref("PeakScores")],
                                   required: ["id", "run_id", "name", "worker", "start", "end", "action", "rollout_mode", "operator",
                                              "reason", "peak_scores"], additional: nil),
        "IncidentList": .array(items: "IncidentSummary"),
        "EventScores": .object(["cpu_percent": .number, "entropy": .number, "confidence": .number], required: [], additional: nil),
        "EventFields": .object([:], required: [], additional: .stringOrNumber),
        "TimelineEvent": .object(["seq": .integer, "ts": .dateTime, "run_id": .string, "name": .string, "generation": .integer, "kind": .string,
                                  "incident_id": .string, "fields": .ref("EventFields"), "reason": .string,
                                  "scores": .ref("EventScores")],
                                 required: ["seq", "ts", "run_id", "generation", "kind", "fields"], additional: nil),
        "EventList": .array(items: "TimelineEvent"),
        "Run": .object(["run_id": .string, "live": .boolean, "pid": .integer, "generation": .integer, "cpu_percent": .number,
                        "name": .string, "command": .string, "worker": .string, "first_seen": .string, "last_seen": .string,
                        "degraded": .boolean, "reaper_pid": .integer, "worker_started": .string, "rss_bytes": .integer,
                        "restarts": .integer, "open_incidents": .integer], required: ["run_id", "live"], additional: nil),
        "RunList": .array(items: "Run"),
    ]

    /// What is wrong with `value` as a `schema` (empty when nothing).
    static func problems(_ value: JSON, schema name: String, at path: String = "$") -> [String] {
        guard let schema = schemas[name] else { return ["\(path): no schema \(name) in the mirror"] }
        switch schema {
        case .array(let items):
            guard case .array(let elements) = value else { return ["\(path): not an array (\(name)): \(value)"] }
            return elements.enumerated().flatMap { problems($1, schema: items, at: "\(path)[\($0)]") }
        case .object(let properties, let required, let additional):
            guard case .object(let object) = value else { return ["\(path): not an object (\(name)): \(value)"] }
            var out = required.sorted().filter { object[$0] == nil }.map { "\(path).\($0): missing (required by \(name))" }
            for (key, element) in object.sorted(by: { $0.key < $1.key }) {
                if let shape = properties[key] {
                    out += problems(element, shape: shape, at: "\(path).\(key)")
                } else if let additional {
                    out += problems(element, shape: additional, at: "\(path).\(key)")
                } else {
                    out.append("\(path).\(key): not a property of \(name)")
                }
            }
            return out
        }
    }

    static func problems(_ value: JSON, shape: Shape, at path: String) -> [String] {
        switch (shape, value) {
        case (.any, _), (.string, .string), (.integer, .number(_, integral: true)), (.number, .number), (.boolean, .bool),
             (.stringOrNumber, .string), (.stringOrNumber, .number):
            return []
        case (.dateTime, .string(let s)) where s.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#,
                                                       options: .regularExpression) != nil:
            return []
        case (.stringArray, .array(let elements)) where elements.allSatisfy({ $0.string != nil }):
            return []
        case (.ref(let name), _):
            return problems(value, schema: name, at: path)
        default:
            return ["\(path): expected \(shape), got \(value)"]
        }
    }

    /// Checks one response against the spec: documented path/method/status, media type, headers, body schema.
    static func check(_ reply: Reply, method: String, target: String, sourceLocation: SourceLocation) {
        let path = String(target.prefix { $0 != "?" })
        let what = "\(method) \(target) → \(reply.status)"
        guard let template = spec.template(for: path) else {
            #expect(exercised.contains(Exercise(method: method, path: "*", status: reply.status)),
                    "\(what): not in APIContract.exercised", sourceLocation: sourceLocation)
            #expect(reply.status == 404, "\(what): a path the spec does not know must be 404", sourceLocation: sourceLocation)
            #expect(reply.body.isEmpty && reply.headers["content-type"] == nil,
                    "\(what): differs from components.responses.NotFound: \(reply.headers) \(reply.text)", sourceLocation: sourceLocation)
            return
        }
        #expect(exercised.contains(Exercise(method: method, path: template, status: reply.status)),
                "\(what): not in APIContract.exercised", sourceLocation: sourceLocation)
        let general = reply.status == 405 ? ["components", "responses", "MethodNotAllowed"]
            : reply.status == 421 ? ["components", "responses", "WrongHost"] : nil
        if reply.status == 405 {
            #expect(!spec.has(["paths", template, method.lowercased()]), "\(what): a documented method answered \(reply.status)",
                    sourceLocation: sourceLocation)
        }
        guard let response = general ?? spec.response(method, template, reply.status) else {
            Issue.record("\(what): not documented in openapi.yaml (paths.\(template).\(method.lowercased()).responses)",
                         sourceLocation: sourceLocation)
            return
        }
        let mediaTypes = spec.children(response + ["content"])
        if mediaTypes.isEmpty {
            #expect(reply.body.isEmpty, "\(what): the spec documents no body", sourceLocation: sourceLocation)
        } else {
            #expect(reply.mediaType.map(mediaTypes.contains) == true,
                    "\(what): Content-Type \(reply.headers["content-type"] ?? "none"), documented \(mediaTypes)", sourceLocation: sourceLocation)
        }
        // Link is optional by its description (only when another drilldown page follows).
        for header in spec.children(response + ["headers"]) where header != "Link" {
            let actual = reply.headers[header.lowercased()]
            #expect(actual != nil, "\(what): documented header \(header) missing", sourceLocation: sourceLocation)
            let allowed = Spec.flowList(spec.value(response + ["headers", header, "schema", "enum"]))
            if let actual, !allowed.isEmpty {
                #expect(allowed.contains(actual), "\(what): \(header): \(actual), documented \(allowed)", sourceLocation: sourceLocation)
            }
        }
        guard reply.mediaType == "application/json" else { return }
        let body: JSON
        do { body = try reply.json() } catch {
            Issue.record("\(what): not JSON: \(reply.text)", sourceLocation: sourceLocation)
            return
        }
        let schemaNode = response + ["content", "application/json", "schema"]
        var candidates = spec.refName(schemaNode).map { [$0] } ?? []
        candidates += Spec.refNames(in: spec.value(schemaNode + ["anyOf"]) ?? "")
        guard !candidates.isEmpty else {
            Issue.record("\(what): the spec names no schema for the JSON body", sourceLocation: sourceLocation)
            return
        }
        let results = candidates.map { problems(body, schema: $0) }
        #expect(results.contains { $0.isEmpty },
                "\(what): the body matches no documented schema \(candidates): \(results.map { $0.prefix(5) })",
                sourceLocation: sourceLocation)
    }

    /// The `error` of a JSON error body (an Error object: `{"error": "<non-empty>"}`), nil when it is not one.
    static func errorText(_ reply: Reply) -> String? {
        guard reply.mediaType == "application/json", let json = try? reply.json(), problems(json, schema: "Error").isEmpty,
              let text = json["error"]?.string, !text.isEmpty else { return nil }
        return text
    }

    static func reasonBody(_ reason: String) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["reason": reason])) ?? Data()
    }

    static func queryEncoded(_ s: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~:")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    // MARK: the spec, read by the indentation of its mapping keys

    /// openapi.yaml as a map from key paths to their scalar text ("" for a mapping). List items (and what is
    /// nested in them) and block scalars are skipped; flow values are kept as text.
    struct Spec: Sendable {
        let entries: [[String]: String]
        let order: [[String]]

        init(text: String) {
            var entries: [[String]: String] = [:]
            var order: [[String]] = []
            var stack: [(indent: Int, key: String)] = []
            var skipDeeperThan: Int?
            for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
                let trimmed = line.drop { $0 == " " }
                if trimmed.isEmpty { continue }
                let indent = line.count - trimmed.count
                if let limit = skipDeeperThan {
                    if indent > limit { continue }
                    skipDeeperThan = nil
                }
                if trimmed.hasPrefix("#") { continue }
                if trimmed.hasPrefix("- ") || trimmed == "-" {
                    skipDeeperThan = indent
                    continue
                }
                guard let (key, value) = Spec.keyValue(trimmed) else { continue }
                while let last = stack.last, last.indent >= indent { stack.removeLast() }
                stack.append((indent, key))
                let path = stack.map(\.key)
                entries[path] = value
                order.append(path)
                if value.hasPrefix("|") || value.hasPrefix(">") { skipDeeperThan = indent }
            }
            self.entries = entries
            self.order = order
        }

        static func keyValue(_ line: Substring) -> (String, String)? {
            var key: String
            var rest: Substring
            if let quote = line.first, quote == "'" || quote == "\"" {
                guard let close = line.dropFirst().firstIndex(of: quote) else { return nil }
                key = String(line[line.index(after: line.startIndex)..<close])
                rest = line[line.index(after: close)...]
                guard rest.hasPrefix(":") else { return nil }
                rest = rest.dropFirst()
            } else {
                guard let colon = line.indices.first(where: { i in
                    line[i] == ":" && (line.index(after: i) == line.endIndex || line[line.index(after: i)] == " ")
                }) else { return nil }
                key = String(line[..<colon])
                rest = line[line.index(after: colon)...]
            }
            key = key.trimmingCharacters(in: .whitespaces)
            return (key, unquote(rest.trimmingCharacters(in: .whitespaces)))
        }

        static func unquote(_ s: String) -> String {
            guard s.count >= 2, let first = s.first, first == "'" || first == "\"", s.last == first else { return s }
            let inner = String(s.dropFirst().dropLast())
            return first == "'" ? inner.replacingOccurrences(of: "''", with: "'") : inner
        }

        /// `[a, b]` → ["a", "b"]; nil or anything else → [].
        static func flowList(_ s: String?) -> [String] {
            guard let s, s.hasPrefix("["), s.hasSuffix("]") else { return [] }
            return s.dropFirst().dropLast().split(separator: ",").map { unquote($0.trimmingCharacters(in: .whitespaces)) }
                .filter { !$0.isEmpty }
        }

        static func refNames(in text: String) -> [String] {
            text.components(separatedBy: "#/components/schemas/").dropFirst().map { String($0.prefix { $0.isLetter || $0.isNumber }) }
        }

        func value(_ path: [String]) -> String? { entries[path] }
        func has(_ path: [String]) -> Bool { entries[path] != nil }

        func children(_ path: [String]) -> [String] {
            order.filter { $0.count == path.count + 1 && Array($0.prefix(path.count)) == path }.map { $0.last ?? "" }
        }

        /// The schema name a node refers to with `$ref`.
        func refName(_ node: [String]) -> String? {
            value(node + ["$ref"]).map { String($0.split(separator: "/").last ?? "") }
        }

        /// The spec's path template that `path` falls under (`/dashboard/{file}` for `/dashboard/x`).
        func template(for path: String) -> String? {
            let parts = path.components(separatedBy: "/")
            return children(["paths"]).first { template in
                let t = template.components(separatedBy: "/")
                return t.count == parts.count && zip(t, parts).allSatisfy { $0 == $1 || ($0.hasPrefix("{") && $0.hasSuffix("}")) }
            }
        }

        func documentedStatuses(_ method: String, _ template: String) -> Set<Int> {
            Set(children(["paths", template, method.lowercased(), "responses"]).compactMap { Int($0) })
        }

        /// The response node for a status, with a `$ref` to components.responses followed.
        func response(_ method: String, _ template: String, _ status: Int) -> [String]? {
            let node = ["paths", template, method.lowercased(), "responses", "\(status)"]
            guard has(node) else { return nil }
            if let ref = value(node + ["$ref"]) {
                let name = String(ref.split(separator: "/").last ?? "")
                return has(["components", "responses", name]) ? ["components", "responses", name] : nil
            }
            return node
        }

        func shape(_ node: [String]) -> Shape? {
            if let name = refName(node) { return .ref(name) }
            switch value(node + ["type"]) {
            case "string": return value(node + ["format"]) == "date-time" ? .dateTime : .string
            case "integer": return .integer
            case "number": return .number
            case "boolean": return .boolean
            case "[string, number]": return .stringOrNumber
            case "array": return value(node + ["items", "type"]) == "string" ? .stringArray : nil
            default: return nil
            }
        }

        /// A schema's additionalProperties as the mirror writes it: nil when false, .any when true.
        func additionalProperties(_ schema: [String]) -> Shape? {
            switch value(schema + ["additionalProperties"]) {
            case "false": return nil
            case "true": return .any
            case "": return shape(schema + ["additionalProperties"])
            default: return .any // absent: JSON Schema allows any
            }
        }
    }

    // MARK: JSON with the types kept apart (JSONSerialization on Linux blurs numbers and booleans)

    enum JSON: Decodable, Equatable, Sendable, CustomStringConvertible {
        case null
        case bool(Bool)
        case number(Double, integral: Bool)
        case string(String)
        case array([JSON])
        case object([String: JSON])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let i = try? c.decode(Int64.self) { self = .number(Double(i), integral: true) }
            else if let d = try? c.decode(Double.self) { self = .number(d, integral: false) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([JSON].self) { self = .array(a) }
            else { self = .object(try c.decode([String: JSON].self)) }
        }

        subscript(key: String) -> JSON? {
            if case .object(let o) = self { return o[key] }
            return nil
        }

        var string: String? { if case .string(let s) = self { return s }; return nil }
        var double: Double? { if case .number(let d, _) = self { return d }; return nil }
        var array: [JSON]? { if case .array(let a) = self { return a }; return nil }

        var description: String {
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

    // MARK: Prometheus text

    struct Metrics: Sendable {
        struct Sample: Sendable, CustomStringConvertible {
            let name: String
            let labels: [String: String]
            let value: Double
            var description: String { "\(name)\(labels.sorted { $0.key < $1.key }) \(value)" }
        }

        var samples: [Sample] = []
        var types: [String: String] = [:]
        var malformed: [String] = []

        init(_ text: String) {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    if parts.count == 4 { types[String(parts[2])] = String(parts[3]) } else { malformed.append(String(line)) }
                } else if !line.hasPrefix("#") {
                    if let sample = Metrics.sample(line) { samples.append(sample) } else { malformed.append(String(line)) }
                }
            }
        }

        static func sample(_ line: Substring) -> Sample? {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            guard series.hasSuffix("}") else { return nil }
            var labels: [String: String] = [:]
            var rest = series[series.index(after: brace)..<series.index(before: series.endIndex)]
            while !rest.isEmpty {
                guard let eq = rest.firstIndex(of: "="), rest[rest.index(after: eq)...].hasPrefix("\"") else { return nil }
                let key = String(rest[..<eq])
                var i = rest.index(eq, offsetBy: 2)
                var text = ""
                while i < rest.endIndex, rest[i] != "\"" {
                    if rest[i] == "\\" { i = rest.index(after: i) }
                    if i < rest.endIndex {
                        text.append(rest[i])
                        i = rest.index(after: i)
                    }
                }
                guard i < rest.endIndex else { return nil }
                labels[key] = text
                rest = rest[rest.index(after: i)...]
                if rest.hasPrefix(",") { rest = rest.dropFirst() }
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }

        /// The first sample of `name` whose labels include `labels`.
        func first(_ name: String, _ labels: [String: String] = [:]) -> Sample? {
            samples.first { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
        }
    }

    // MARK: HTTP/1.1 over a loopback socket

    struct Reply: Sendable {
        let status: Int
        /// Lowercased names.
        let headers: [String: String]
        let body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        var mediaType: String? {
            headers["content-type"].map { $0.split(separator: ";").first.map(String.init) ?? "" }
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        }
        func json() throws -> JSON { try JSONDecoder().decode(JSON.self, from: body) }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return addr
    }

    /// A port nothing listens on right now (bound to port 0, then released).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = loopback(port: 0)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure("bind: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw Failure("getsockname: errno \(errno)") }
        return UInt16(bigEndian: addr.sin_port)
    }

    /// One request on a fresh connection (`Connection: close`). A body gets a Content-Length unless `headers`
    /// has one or it is sent chunked.
    static func request(port: UInt16, method: String, target: String, headers: [(String, String)], body: Data?,
                        chunked: Bool, timeoutSeconds: Int = 15) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = loopback(port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure("connect to 127.0.0.1:\(port): errno \(errno)") }

        // A test that sets Host itself (the allowlist tests) sends only its own.
        let ownHost = headers.contains { $0.0.lowercased() == "host" }
        var head = "\(method) \(target) HTTP/1.1\r\n" + (ownHost ? "" : "Host: 127.0.0.1:\(port)\r\n") + "Connection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        var payload: [UInt8] = []
        if let body {
            let bytes = [UInt8](body)
            if chunked {
                head += "Transfer-Encoding: chunked\r\n"
                var offset = 0
                while offset < bytes.count {
                    let n = min(4096, bytes.count - offset)
                    payload += Array((String(n, radix: 16) + "\r\n").utf8) + bytes[offset..<(offset + n)] + Array("\r\n".utf8)
                    offset += n
                }
                payload += Array("0\r\n\r\n".utf8)
            } else {
                if !headers.contains(where: { $0.0.lowercased() == "content-length" }) { head += "Content-Length: \(bytes.count)\r\n" }
                payload = bytes
            }
        }
        let out = Array((head + "\r\n").utf8) + payload
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break } // the server may answer (413) and close before it read everything: read what it said
            sent += n
        }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var ended = "closed by the server"
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { ended = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : "recv errno \(errno)" }
            if n <= 0 { break }
            received += buffer[0..<n]
            if let reply = parse(received, atEnd: false, head: method == "HEAD") { return reply }
        }
        guard !received.isEmpty else { throw Failure("\(method) \(target): no response (connection \(ended))") }
        guard let reply = parse(received, atEnd: true, head: method == "HEAD") else {
            throw Failure("\(method) \(target): malformed response: \(String(decoding: received.prefix(300), as: UTF8.self))")
        }
        return reply
    }

    /// A complete response from `bytes`, or nil when it is not complete (yet).
    /// `head`: the answer to a HEAD request, whose Content-Length describes a body that is not sent.
    static func parse(_ bytes: [UInt8], atEnd: Bool, head: Bool = false) -> Reply? {
        guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: {
            bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10
        }) else { return nil }
        var lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        let rest = bytes[(end + 4)...]
        if head { return Reply(status: status, headers: headers, body: Data()) }
        if let length = headers["content-length"].flatMap({ Int($0) }) {
            guard rest.count >= length else { return nil }
            return Reply(status: status, headers: headers, body: Data(rest.prefix(length)))
        }
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            guard let body = dechunk(rest) else { return nil }
            return Reply(status: status, headers: headers, body: Data(body))
        }
        return atEnd ? Reply(status: status, headers: headers, body: Data(rest)) : nil
    }

    static func dechunk(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var i = bytes.startIndex
        while true {
            guard let lineEnd = (i..<max(i, bytes.endIndex - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else { return nil }
            let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            if size == 0 { return out }
            let start = lineEnd + 2
            guard bytes.endIndex >= start + size + 2 else { return nil }
            out += bytes[start..<(start + size)]
            i = start + size + 2
        }
    }
}
