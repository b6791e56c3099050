// FlowForge — a `flowforge run --listen` under test, every answer it gives checked against openapi.yaml.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import Testing

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
        stateDir = try makeTemporaryDirectory("ff-api")
        if keyInFile, let key {
            let path = stateDir + "/api.key"
            try Data((key + "\n").utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        }
        self.key = key
        port = try LoopbackHTTP.freePort()
        marker = Marker.make("api")
        var env = ["FLOWFORGE_STATE_DIR": stateDir, "FLOWFORGE_API_KEY": keyInFile ? "" : (key ?? "")]
        for (k, v) in extra { env[k] = v }
        ff = try Supervised(["--listen", "127.0.0.1:\(port)"] + options + ["--"] + worker, env: env, marker: marker)
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
    func call(_ method: String, _ target: String, headers: [(String, String)] = [], body: Data? = nil, chunked: Bool = false) throws -> HTTPReply {
        try LoopbackHTTP.request(port: port, method: method, target: target, headers: headers, body: body, chunked: chunked)
    }

    /// One request, its answer checked against openapi.yaml, and the key looked for in it.
    @discardableResult
    func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: Data? = nil, chunked: Bool = false,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> HTTPReply {
        let reply = try call(method, target, headers: headers, body: body, chunked: chunked)
        check(reply, method, target, sourceLocation: sourceLocation)
        return reply
    }

    func check(_ reply: HTTPReply, _ method: String, _ target: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let problems = OpenAPISpec.shared?.check(reply, method: method, target: target) ?? ["cannot read \(OpenAPISpec.path)"]
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        if let key {
            #expect(!reply.text.contains(key), "\(method) \(target) answered with the key", sourceLocation: sourceLocation)
            for (name, value) in reply.headers {
                #expect(!value.contains(key), "\(method) \(target): header \(name) carries the key", sourceLocation: sourceLocation)
            }
        }
    }

    /// POST /process/<action> with the key and a reason.
    func act(_ action: String, reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> HTTPReply {
        try request("POST", "/process/\(action)", headers: authorized, body: reasonBody(reason), sourceLocation: sourceLocation)
    }

    /// GET /timeline<query>, which must be a 200 array (an IncidentList, or an EventList for a drilldown).
    func timeline(_ query: String = "", sourceLocation: SourceLocation = #_sourceLocation) throws -> [JSON] {
        let reply = try request("GET", "/timeline" + query, sourceLocation: sourceLocation)
        guard reply.status == 200, let list = try reply.json().array else {
            throw TestFailure("GET /timeline\(query): \(reply.status) \(reply.text)")
        }
        let schema = query.contains("incident_id=") ? "EventList" : "IncidentList"
        let problems = OpenAPISpec.shared?.problems(.array(list), schema: schema) ?? ["no openapi.yaml"]
        #expect(problems.isEmpty, "\(problems.prefix(5))", sourceLocation: sourceLocation)
        return list
    }

    /// One incident's drilldown, which must be a 200 EventList.
    func drilldown(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [JSON] {
        try timeline("?incident_id=" + queryEncoded(id), sourceLocation: sourceLocation)
    }

    /// GET /metrics, parsed; every family on the page is in openapi.yaml's /metrics table, with its type.
    func metrics(sourceLocation: SourceLocation = #_sourceLocation) throws -> PrometheusText {
        let reply = try request("GET", "/metrics", sourceLocation: sourceLocation)
        guard reply.status == 200 else { throw TestFailure("GET /metrics: \(reply.status)") }
        let page = PrometheusText(reply.text)
        let documented = OpenAPISpec.shared?.documentedMetrics ?? [:]
        for family in page.families.sorted() {
            #expect(documented[family] != nil, "\(family) is served but not documented in openapi.yaml", sourceLocation: sourceLocation)
            if let type = page.types[family], let doc = documented[family] {
                #expect(type == doc, "\(family): served as \(type), documented as \(doc)", sourceLocation: sourceLocation)
            }
        }
        return page
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

    /// `reply` is an Error object (`{"error": "<non-empty>"}`).
    static func isError(_ reply: HTTPReply) -> Bool { OpenAPISpec.shared?.errorText(reply) != nil }
}
