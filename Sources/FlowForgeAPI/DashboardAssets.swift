// FlowForge — the dashboard's static files, read into memory before the agent sandboxes itself.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import Hummingbird

/// The dashboard page and its scripts, served from memory (the sandboxed API agent opens no files).
public struct DashboardAssets: Sendable {
    let files: [String: (type: String, bytes: [UInt8])]

    /// The files the dashboard consists of.
    public static let names = ["index.html", "dashboard.js", "dashboard.css"]

    /// Loads the bundled `Dashboard` files from the resource folder beside the executable.
    ///
    /// - Important: plain open/read only. This runs before the agent sandboxes itself, and Foundation's
    ///   Bundle may start threads, which would keep the capabilities the sandbox drops (they are per thread).
    public static func load() -> DashboardAssets {
        var files: [String: (String, [UInt8])] = [:]
        let types = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]
        let dir = ProcessEnvironment.executableDirectory() + "/FlowForge_FlowForgeAPI.resources/Dashboard"
        for name in names {
            guard let bytes = FileIO.readFile(dir + "/" + name, limit: 4 << 20) else { continue }
            let ext = name.split(separator: ".").last.map(String.init) ?? ""
            files[name] = (types[ext] ?? "application/octet-stream", bytes)
        }
        return DashboardAssets(files: files)
    }

    func response(for name: String) -> Response {
        guard let file = files[name] else { return json(.notFound, ["error": "no such file"]) }
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
