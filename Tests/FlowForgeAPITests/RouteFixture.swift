// FlowForge — the API router in process (HummingbirdTesting): a run's state built from events, a sink that
// records what reached it, and each answer turned into an HTTPReply to check against openapi.yaml.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAPI
import FlowForgeMetrics
import FlowForgeModel
import FlowForgeTestSupport
import FlowForgeWire
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The sink's answer, and the requests that reached it (a refused request must never get there).
final class RecordingSink: ActionSink, @unchecked Sendable { // state behind `lock`
    private let lock = NSLock()
    private var calls: [(kind: ActionKind, reason: String, runID: String?)] = []
    let answer: @Sendable (ActionKind, String?) -> ActionResult

    init(answer: @escaping @Sendable (ActionKind, String?) -> ActionResult = RecordingSink.likeARun) {
        self.answer = answer
    }

    /// A run's own sink: another run's id is not live; otherwise the reaper accepts.
    static let likeARun: @Sendable (ActionKind, String?) -> ActionResult = { kind, runID in
        if let runID, runID != RouteFixture.runID { return .unknownRun(runID) }
        return .done(ActionReply(actionID: 7, incidentID: "\(RouteFixture.runID)-op7", accepted: true,
                                 detail: "\(kind) of generation 1 accepted"))
    }

    var received: [(kind: ActionKind, reason: String, runID: String?)] { lock.withLock { calls } }

    func act(kind: ActionKind, reason: String, runID: String?) async -> ActionResult {
        lock.withLock { calls.append((kind, reason, runID)) }
        return answer(kind, runID)
    }
}

enum RouteFixture {
    static let runID = "r20261207T021924-4242"

    /// One registry for the test process.
    static let metrics = APIMetrics(.run { (runID, "worker") })

    /// A run with one detector incident, an operator restart, an agent respawn, rejected agent messages and a
    /// lost spawner: every event kind that moves a counter, so /metrics shows every family it can.
    static let busyRun: RunState = {
        let state = RunState()
        let lines = [
            #"{"ts":"2026-12-07T02:19:24.000000Z","run_id":"R","name":"worker","generation":0,"kind":"run.started","fields":{"name":"worker","argv":"sh -c loop"}}"#,
            #"{"ts":"2026-12-07T02:19:24.000001Z","run_id":"R","generation":1,"kind":"run.policy","seq":1,"fields":{"mode":"enforce"}}"#,
            #"{"ts":"2026-12-07T02:19:24.000002Z","run_id":"R","generation":1,"kind":"worker.started","seq":2,"fields":{"pid":4242,"worker":"sh"}}"#,
            #"{"ts":"2026-12-07T02:19:25.000000Z","run_id":"R","generation":1,"kind":"sample","seq":3,"fields":{"cpu_percent":97.5,"rss_bytes":1048576,"processes":2,"worker":"sh","output":"step 3"}}"#,
            #"{"ts":"2026-12-07T02:19:26.000000Z","run_id":"R","generation":1,"kind":"incident.opened","seq":4,"incident_id":"R-1","fields":{"reason":"CPU over 50% for 2 s","verdict":"repetitiveOutput","cpu_percent":97.5,"entropy":0.4,"confidence":0.9,"worker":"sh"}}"#,
            #"{"ts":"2026-12-07T02:19:26.000100Z","run_id":"R","generation":1,"kind":"policy.decision","seq":5,"incident_id":"R-1","fields":{"decision":"log","mode":"enforce"}}"#,
            #"{"ts":"2026-12-07T02:19:27.000000Z","run_id":"R","generation":1,"kind":"action.requested","seq":6,"incident_id":"R-op1","fields":{"by":"api","kind":"restart","reason":"operator"}}"#,
            #"{"ts":"2026-12-07T02:19:27.000100Z","run_id":"R","generation":1,"kind":"policy.decision","seq":7,"incident_id":"R-op1","fields":{"decision":"restart","mode":"operator"}}"#,
            #"{"ts":"2026-12-07T02:19:28.000000Z","run_id":"R","generation":1,"kind":"worker.exited","seq":8,"incident_id":"R-op1","fields":{"pid":4242,"signal":15}}"#,
            #"{"ts":"2026-12-07T02:19:28.000100Z","run_id":"R","generation":2,"kind":"worker.started","seq":9,"incident_id":"R-op1","fields":{"pid":4343,"worker":"sh"}}"#,
            #"{"ts":"2026-12-07T02:19:29.000000Z","run_id":"R","generation":2,"kind":"agent.exited","seq":10,"fields":{"agent":"detector","signal":31}}"#,
            #"{"ts":"2026-12-07T02:19:29.000100Z","run_id":"R","generation":2,"kind":"agent.rejected","seq":11,"fields":{"agent":"api","dropped":"3","reasons":"kind=3"}}"#,
            #"{"ts":"2026-12-07T02:19:30.000000Z","run_id":"R","generation":2,"kind":"supervisor.degraded","seq":12,"fields":{"reason":"spawner lost"}}"#,
            #"{"ts":"2026-12-07T02:19:31.000000Z","run_id":"R","generation":2,"kind":"sample","seq":13,"fields":{"cpu_percent":3.5,"rss_bytes":2097152,"memory_bytes":2097152,"watchdog_age_seconds":1.5,"processes":1,"worker":"sh"}}"#,
        ]
        for line in lines {
            guard let event = TimelineEvent(jsonLine: Substring(line.replacingOccurrences(of: "\"R", with: "\"" + runID))) else {
                Issue.record("fixture line does not parse: \(line)")
                continue
            }
            if state.ingest(event) { metrics.count(event) }
        }
        metrics.countSkipped(lines: 1) // the dashboard's own counter
        return state
    }()

    /// A run that has started and nothing else.
    static func freshRun() -> RunState {
        let state = RunState()
        state.setRun(runID, workerPID: 4242, generation: 1)
        return state
    }

    /// Runs `body` against the API router of `state`, as a run's API agent serves it.
    static func withRouter(state: RunState = freshRun(), key: String? = "ffk-route-key", sink: RecordingSink = RecordingSink(),
                           requireKeyForReads: Bool = false,
                           _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let context = APIContext(source: RunSource(state: state, metrics: metrics), sink: sink, apiKey: key,
                                 dashboard: DashboardAssets.load(), requireKeyForReads: requireKeyForReads)
        let app = Application(router: APIRoutes.router(context))
        try await app.test(.router) { client in try await body(client) }
    }
}

extension TestClientProtocol {
    /// One request; the answer is checked against openapi.yaml (each problem is an issue at the caller).
    @discardableResult
    func send(_ method: String, _ uri: String, headers: [(String, String)] = [], body: Data? = nil,
              sourceLocation: SourceLocation = #_sourceLocation) async throws -> HTTPReply {
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPFields.Element(name: try #require(HTTPFields.Element.Name(name)), value: value)) }
        let response = try await execute(uri: uri, method: try #require(HTTPRequest.Method(method)), headers: fields,
                                         body: body.map { ByteBuffer(bytes: $0) })
        var lowered: [String: String] = [:]
        for field in response.headers {
            lowered[field.name.canonicalName] = lowered[field.name.canonicalName].map { $0 + ", " + field.value } ?? field.value
        }
        let reply = HTTPReply(status: response.status.code, headers: lowered, body: Data(response.body.readableBytesView))
        let problems = try #require(OpenAPISpec.shared, "cannot read \(OpenAPISpec.path)").check(reply, method: method, target: uri)
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        return reply
    }
}

/// `reply` is an Error object (`{"error": "<non-empty>"}`).
func isError(_ reply: HTTPReply) -> Bool { OpenAPISpec.shared?.errorText(reply) != nil }
