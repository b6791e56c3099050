// FlowForge — the checks every request passes before a route sees it: Host, method, and the key for reads.
// SPDX-License-Identifier: Apache-2.0
import Hummingbird

/// The HTTP boundary, in this order:
/// 1. `Host` must be on the allowlist (421 otherwise, with a JSON error; a second `Host` header is a 400);
/// 2. a known path answers 405 with `Allow` to every method but its own (HEAD, OPTIONS and methods no
///    route names included), instead of the router's bodiless 404;
/// 3. with `requireKeyForReads`, `GET /timeline`, `/runs` and `/metrics` need the API key like the process
///    actions (401; 503 when no key is configured). `/healthz` and the dashboard's static files stay open:
///    they carry no worker data, and the page must load for the operator to type the key.
struct BoundaryMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let ctx: APIContext

    /// The one method each known path serves; nil for paths the router does not know (its default 404).
    static func allowedMethod(_ path: String) -> HTTPRequest.Method? {
        let parts = path.split(separator: "/")
        switch parts.count {
        case 0: return .get
        case 1: return ["healthz", "metrics", "timeline", "runs"].contains(parts[0]) ? .get : nil
        case 2:
            if parts[0] == "process" && (parts[1] == "restart" || parts[1] == "kill") { return .post }
            return parts[0] == "dashboard" ? .get : nil
        default: return nil
        }
    }

    static let keyedReads: Set<String> = ["/timeline", "/runs", "/metrics"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.headers[values: HTTPFields.Element.Name("Host")!].count > 0 {
            return json(.badRequest, ["error": "more than one Host header"])
        }
        if let host = request.head.authority, !ctx.hosts.allows(host) {
            return json(.misdirectedRequest, ["error": "Host '\(host.prefix(100))' is not served here: use 127.0.0.1, localhost or [::1], or add the name with --allowed-host"])
        }
        let path = request.uri.path
        if let allowed = Self.allowedMethod(path), request.method != allowed {
            return APIRoutes.methodNotAllowed(allowed.rawValue)
        }
        if ctx.requireKeyForReads, request.method == .get, Self.keyedReads.contains("/" + path.split(separator: "/").joined(separator: "/")) {
            guard let key = ctx.apiKey else {
                return json(.serviceUnavailable, ["error": "reads need the API key (--require-key-for-reads), and none is configured"])
            }
            guard APIRoutes.hasKey(request, key) else { return APIRoutes.unauthorized() }
        }
        return try await next(request, context)
    }
}
