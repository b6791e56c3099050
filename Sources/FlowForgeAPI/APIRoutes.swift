// FlowForge — the HTTP API: health, metrics, timeline and drilldown, and the key-protected process actions.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import Foundation
import Hummingbird

/// What the routes need.
public struct APIContext: Sendable {
    public let source: any TimelineSource
    public let sink: any ActionSink
    /// nil: process endpoints answer 503 (FlowForge never serves them without a key).
    public let apiKey: String?
    public let dashboard: DashboardAssets

    public init(source: any TimelineSource, sink: any ActionSink, apiKey: String?, dashboard: DashboardAssets) {
        self.source = source
        self.sink = sink
        self.apiKey = apiKey
        self.dashboard = dashboard
    }
}

/// Limits of the process endpoints.
public enum APILimits {
    public static let maxBody = 16 * 1024
    public static let maxReason = 1024
}

public enum APIRoutes {
    public static func router(_ ctx: APIContext) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in json(.ok, ["status": "ok"]) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: ctx.source.metricsText())))
        }
        router.get("/timeline") { request, _ in timeline(request, ctx) }
        router.get("/runs") { _, _ in jsonArray(.ok, ctx.source.runs()) }
        for action in ["restart", "kill"] {
            router.post("/process/\(action)") { request, _ in
                try await processAction(request, kind: action == "restart" ? .restart : .kill, ctx)
            }
            for method in [HTTPRequest.Method.get, .put, .delete, .patch] {
                router.on("/process/\(action)", method: method) { _, _ in methodNotAllowed("POST") }
            }
        }
        for path in ["/healthz", "/metrics", "/timeline", "/runs"] {
            for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
                router.on(RouterPath(path), method: method) { _, _ in methodNotAllowed("GET") }
            }
        }
        router.get("/") { _, _ in ctx.dashboard.response(for: "index.html") }
        router.get("/dashboard/{file}") { _, context in
            ctx.dashboard.response(for: context.parameters.get("file") ?? "")
        }
        return router
    }

    static func timeline(_ request: Request, _ ctx: APIContext) -> Response {
        let query = request.uri.queryParameters
        if let id = query.get("incident_id") {
            guard !id.isEmpty, let chain = ctx.source.chain(incident: id) else {
                return json(.notFound, ["error": "unknown incident_id '\(id.prefix(200))'"])
            }
            // Samples carry their output lines for offline replay; the drilldown shows the evidence from
            // incident.opened instead, and leaving those lines out keeps the response small and fast.
            return jsonArray(.ok, chain.map { $0.kind == "sample" ? $0.withoutOutput.json : $0.json })
        }
        var limit = 50
        if let raw = query.get("limit") {
            guard let n = Int(raw), (1...1000).contains(n) else { return json(.badRequest, ["error": "limit must be a whole number from 1 to 1000"]) }
            limit = n
        }
        var before: Int64?
        if let raw = query.get("before") {
            guard let nanos = TimelineEvent.parseNanos(raw) else {
                return json(.badRequest, ["error": "before must be an RFC 3339 timestamp (an incident's start)"])
            }
            before = nanos
        }
        return jsonArray(.ok, ctx.source.incidents(limit: limit, before: before).map(\.json))
    }

    static func processAction(_ request: Request, kind: ActionKind, _ ctx: APIContext) async throws -> Response {
        guard let key = ctx.apiKey else {
            return json(.serviceUnavailable, ["error": "process actions are disabled: no API key is configured (FLOWFORGE_API_KEY or the state directory's api.key)"])
        }
        guard let auth = request.headers[.authorization], auth.count > 7, auth.prefix(7).lowercased() == "bearer ",
              constantTimeEqual(String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces), key) else {
            var r = json(.unauthorized, ["error": "missing or wrong API key (Authorization: Bearer <key>)"])
            r.headers[.wwwAuthenticate] = "Bearer realm=\"flowforge\""
            return r
        }
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            return json(.unsupportedMediaType, ["error": "Content-Type must be application/json"])
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > APILimits.maxBody {
            return json(.contentTooLarge, ["error": "body over \(APILimits.maxBody) bytes"])
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: APILimits.maxBody) } catch {
            return json(.contentTooLarge, ["error": "body over \(APILimits.maxBody) bytes"])
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] else {
            return json(.badRequest, ["error": "body must be a JSON object like {\"reason\": \"...\"}"])
        }
        guard let reason = object["reason"] as? String else {
            return json(.badRequest, ["error": "missing \"reason\" (a non-empty string)"])
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return json(.badRequest, ["error": "\"reason\" must not be empty"]) }
        guard trimmed.utf8.count <= APILimits.maxReason else {
            return json(.badRequest, ["error": "\"reason\" is longer than \(APILimits.maxReason) bytes"])
        }
        let runID = object["run_id"] as? String
        if object["run_id"] != nil && runID == nil { return json(.badRequest, ["error": "\"run_id\" must be a string"]) }
        guard ctx.source.hasLiveWorker else { return json(.conflict, ["error": "no live process to act on"]) }
        let reply: ActionReply
        switch await ctx.sink.act(kind: kind, reason: trimmed, runID: runID) {
        case .done(let r): reply = r
        case .noLiveRun: return json(.conflict, ["error": "no live process to act on"])
        case .ambiguous(let live): return json(.conflict, ["error": "several runs are live: give \"run_id\"", "live_runs": live])
        case .unknownRun(let id): return json(.conflict, ["error": "run \(id.prefix(100)) is not live"])
        case .unavailable(let why): return json(.serviceUnavailable, ["error": why])
        }
        guard reply.accepted else { return json(.conflict, ["error": reply.detail]) }
        return json(.accepted, ["action_id": "\(reply.actionID)", "incident_id": reply.incidentID, "status": "accepted", "detail": reply.detail])
    }

    /// Compares without an early exit, so response time does not leak how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff: UInt8 = 0
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0xFF)
        }
        return diff == 0 && x.count == y.count && !y.isEmpty
    }

    static func methodNotAllowed(_ allow: String) -> Response {
        var r = json(.methodNotAllowed, ["error": "method not allowed; use \(allow)"])
        r.headers[.allow] = allow
        return r
    }
}

func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func jsonArray(_ status: HTTPResponse.Status, _ array: [[String: Any]]) -> Response {
    // No .sortedKeys here: its locale-aware sort dominated the drilldown's time (bench/api.sh).
    let data = (try? JSONSerialization.data(withJSONObject: array)) ?? Data("[]".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
