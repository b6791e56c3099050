// FlowForge — the HTTP API: health, metrics, timeline and drilldown, and the key-protected process actions.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeModel
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
    /// The `Host` names answered (others get 421): loopback names, the listen host, `--allowed-host`.
    public let hosts: HostAllowlist
    /// `--require-key-for-reads`: `/timeline`, `/runs` and `/metrics` need the key too (`/healthz` never does).
    public let requireKeyForReads: Bool

    public init(source: any TimelineSource, sink: any ActionSink, apiKey: String?, dashboard: DashboardAssets,
                hosts: HostAllowlist = HostAllowlist(listenHost: "127.0.0.1"), requireKeyForReads: Bool = false) {
        self.source = source
        self.sink = sink
        self.apiKey = apiKey
        self.dashboard = dashboard
        self.hosts = hosts
        self.requireKeyForReads = requireKeyForReads
    }
}

/// Limits of the process endpoints.
public enum APILimits {
    public static let maxBody = 16 * 1024
    public static let maxReason = 1024
    /// Events in one page of a drilldown (`/timeline?incident_id=`): the default and the largest `limit`.
    public static let drilldownPage = 1000
}

public enum APIRoutes {
    public static func router(_ ctx: APIContext) -> Router<BasicRequestContext> {
        let router = Router()
        // First, so that it wraps every route and the router's 404 as well.
        router.add(middleware: BoundaryMiddleware(ctx: ctx))
        router.get("/healthz") { _, _ in json(.ok, ["status": "ok"]) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: ctx.source.metricsText())))
        }
        router.get("/timeline") { request, _ in timeline(request, ctx) }
        router.get("/runs") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: ctx.source.runsJSON())))
        }
        for action in ["restart", "kill"] {
            router.post("/process/\(action)") { request, _ in
                try await processAction(request, kind: action == "restart" ? .restart : .kill, ctx)
            }
        }
        // Other methods on these paths get their 405 from BoundaryMiddleware.
        router.get("/") { _, _ in ctx.dashboard.response(for: "index.html") }
        router.get("/dashboard/{file}") { _, context in
            ctx.dashboard.response(for: context.parameters.get("file") ?? "")
        }
        return router
    }

    static func timeline(_ request: Request, _ ctx: APIContext) -> Response {
        let query = request.uri.queryParameters
        if let id = query.get("incident_id") {
            // An unknown id is a 404 whatever else the query says; the paging parameters are checked after.
            guard !id.isEmpty, let first = ctx.source.chain(incident: id, after: 0, limit: 1), !first.events.isEmpty else {
                return json(.notFound, ["error": "unknown incident_id '\(id.prefix(200))'"])
            }
            var limit = APILimits.drilldownPage
            if let raw = query.get("limit") {
                guard let n = Int(raw), (1...APILimits.drilldownPage).contains(n) else {
                    return json(.badRequest, ["error": "limit must be a whole number from 1 to \(APILimits.drilldownPage)"])
                }
                limit = n
            }
            guard let after = parseAfter(query.get("after")) else { return badAfter() }
            guard let page = ctx.source.chain(incident: id, after: after, limit: limit) else {
                return json(.notFound, ["error": "unknown incident_id '\(id.prefix(200))'"])
            }
            // Samples carry their output lines for offline replay; the drilldown shows the evidence from
            // incident.opened instead, and leaving those lines out keeps the response small and fast.
            var response = jsonArray(.ok, page.events.map { $0.kind == EventKind.sample.rawValue ? $0.withoutOutput.json : $0.json })
            if page.more, let last = page.events.last {
                let encoded = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
                response.headers[HTTPFields.Element.Name("Link")!] = "</timeline?incident_id=\(encoded)&after=\(last.seq)&limit=\(limit)>; rel=\"next\""
            }
            return response
        }
        // `after` pages drilldowns only, but a bad one is still a 400, as the spec's bounds say.
        guard parseAfter(query.get("after")) != nil else { return badAfter() }
        var limit = 50
        if let raw = query.get("limit") {
            guard let n = Int(raw), (1...1000).contains(n) else { return json(.badRequest, ["error": "limit must be a whole number from 1 to 1000"]) }
            limit = n
        }
        var before: Int64?
        if let raw = query.get("before") {
            guard let nanos = beforeNanos(raw) else {
                return json(.badRequest, ["error": "before must be an RFC 3339 timestamp (an incident's start)"])
            }
            before = nanos
        }
        return jsonArray(.ok, ctx.source.incidents(limit: limit, before: before).map(\.json))
    }

    /// `before` as Unix nanoseconds. A valid RFC 3339 time outside what Int64 nanoseconds hold (before 1678 or
    /// after 2262: schemathesis sends year 5005) is clamped, since "before year 5005" means every incident, rather
    /// than refused; only text that is no RFC 3339 time is nil (a 400).
    static func beforeNanos(_ raw: String) -> Int64? {
        if let nanos = TimelineEvent.parseNanos(raw) { return nanos }
        guard raw.utf8.count >= 20, let year = Int(raw.prefix(4)), raw.prefix(4).allSatisfy(\.isASCIIDigit),
              TimelineEvent.parseNanos("2000" + raw.dropFirst(4)) != nil || TimelineEvent.parseNanos("2004" + raw.dropFirst(4)) != nil
        else { return nil }
        return year >= 1970 ? .max : .min
    }

    /// The drilldown cursor: absent is 0; nil when it is not a whole number from 0 to Int64.max.
    static func parseAfter(_ raw: String?) -> UInt64? {
        guard let raw else { return 0 }
        guard let n = UInt64(raw), n <= UInt64(Int64.max) else { return nil }
        return n
    }

    static func badAfter() -> Response { json(.badRequest, ["error": "after must be an event's seq (a whole number from 0)"]) }

    static func processAction(_ request: Request, kind: ActionKind, _ ctx: APIContext) async throws -> Response {
        guard let key = ctx.apiKey else {
            return json(.serviceUnavailable, ["error": "process actions are disabled: no API key is configured (FLOWFORGE_API_KEY or the state directory's api.key)"])
        }
        guard hasKey(request, key) else { return unauthorized() }
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

    /// Whether the request carries `Authorization: Bearer <key>`.
    static func hasKey(_ request: Request, _ key: String) -> Bool {
        guard let auth = request.headers[.authorization], auth.count > 7, auth.prefix(7).lowercased() == "bearer " else { return false }
        return constantTimeEqual(String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces), key)
    }

    static func unauthorized() -> Response {
        var r = json(.unauthorized, ["error": "missing or wrong API key (Authorization: Bearer <key>)"])
        r.headers[.wwwAuthenticate] = "Bearer realm=\"flowforge\""
        return r
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
