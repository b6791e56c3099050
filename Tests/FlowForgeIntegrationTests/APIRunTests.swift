// FlowForge — the HTTP API of a real `flowforge run --listen`, over real HTTP on loopback: what needs a live
// run (its worker, its reaper, its agents). Every answer is checked against openapi.yaml (APIRun.request).
// The routes' refusals and validation, without a run, are FlowForgeAPITests; openapi.yaml itself is
// FlowForgeAPITests/OpenAPISpecTests.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import Testing

@Suite("HTTP API of a live run, over real HTTP", .serialized)
struct APIRunTests {
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
        let page = PrometheusText(reply.text)
        #expect(page.malformed.isEmpty, "unparseable exposition lines: \(page.malformed)")
        for sample in page.samples {
            #expect(page.types[sample.name] != nil, "\(sample.name) has no # TYPE line")
        }
        let uptime = try #require(page.first("flowforge_uptime_seconds"))
        #expect(uptime.labels.isEmpty && uptime.value >= 0)
        #expect(page.types["flowforge_uptime_seconds"] == "gauge")
        let build = try #require(page.first("flowforge_build_info"))
        #expect(build.value == 1 && build.labels["version"]?.isEmpty == false, "\(build)")
        for name in ["flowforge_worker_cpu_percent", "flowforge_worker_resident_bytes", "flowforge_worker_memory_bytes", "flowforge_worker_processes",
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
        // The server answers as the router does (APIRouteTests has the whole matrix): a path it does not know, a bad
        // query, another method.
        let unknown = try run.request("GET", "/nope")
        #expect(unknown.status == 404 && unknown.body.isEmpty && unknown.headers["content-type"] == nil, "\(unknown.headers)")
        let badQuery = try run.request("GET", "/timeline?limit=0")
        #expect(badQuery.status == 400 && APIRun.isError(badQuery), "\(badQuery.text)")
        let otherMethod = try run.request("DELETE", "/runs")
        #expect(otherMethod.status == 405 && otherMethod.headers["allow"] == "GET", "\(otherMethod.headers)")
        run.expectKeyNotLeaked()
    }

    // MARK: the process endpoints' refusals

    /// The refusals through the real server and the run's own sink (APIRouteTests has every case in process):
    /// the body limit on what a chunked body brings, a chunked body that is read, another run's id (409 from the
    /// run's sink), and none of them acts on the worker or opens an incident.
    @Test(.timeLimit(.minutes(1)))
    func processEndpointsRefuseBadRequestsWithoutActing() throws {
        let run = try APIRun(options: ["--grace", "1", "--sample-interval", "0.25", "--log-level", "debug"])
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let key = try #require(run.key)
        let worker = try #require(run.worker())
        let oversized = Data(("{\"reason\":\"" + String(repeating: "x", count: 16_385 - 13) + "\"}").utf8)
        #expect(oversized.count == 16_385)
        let atLimit = Data(("{\"reason\":\"" + String(repeating: "x", count: 16_384 - 13) + "\"}").utf8)
        #expect(atLimit.count == 16_384)

        for path in ["/process/restart", "/process/kill"] {
            func refused(_ status: Int, _ headers: [(String, String)], _ body: Data?, chunked: Bool = false, _ why: String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
                let reply = try run.request("POST", path, headers: headers, body: body, chunked: chunked, sourceLocation: sourceLocation)
                #expect(reply.status == status, "\(path), \(why): \(reply.status) \(reply.text)", sourceLocation: sourceLocation)
                #expect(APIRun.isError(reply), "\(path), \(why): not a JSON error: \(reply.text)", sourceLocation: sourceLocation)
            }
            try refused(401, [("Authorization", "Bearer wrong-\(key)"), ("Content-Type", "application/json")], reasonBody("no"), "wrong key")
            try refused(415, [("Authorization", "Bearer \(key)"), ("Content-Type", "text/plain")], oversized, "a wrong type and too large: 415 first")
            try refused(413, run.authorized, oversized, "Content-Length 16385")
            try refused(413, run.authorized, Data(count: 20_000), chunked: true, "a 20000-byte chunked body")
            try refused(400, run.authorized, atLimit, "16384 bytes is not too large, but the reason is too long")
            try refused(400, run.authorized, reasonBody(""), chunked: true, "a chunked body is read")
            try refused(400, run.authorized, Data("{bad".utf8), "malformed JSON")
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
                let reply = try run.request("POST", path, headers: headers, body: reasonBody("no key"))
                #expect(reply.status == 503, "\(path) \(headers): \(reply.status)")
                #expect(APIRun.isError(reply), "\(reply.text)")
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
                                    body: reasonBody("wrong key"))
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
            let page = try run.timeline("?limit=1" + (cursor.map { "&before=" + queryEncoded($0) } ?? ""))
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
            #expect(APIRun.isError(reply), "\(reply.text)")
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
        let reply = try run.call("POST", "/process/kill", headers: run.authorized, body: reasonBody(reason))
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
