// FlowForge — the dashboard's static files, read into memory before the agent sandboxes itself.
// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird

/// The dashboard page and its scripts, served from memory (the sandboxed API agent opens no files).
public struct DashboardAssets: Sendable {
    let files: [String: (type: String, bytes: [UInt8])]

    /// Loads every file of the bundled `Dashboard` folder.
    public static func load() -> DashboardAssets {
        var files: [String: (String, [UInt8])] = [:]
        let types = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]
        if let dir = Bundle.module.url(forResource: "Dashboard", withExtension: nil),
           let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) {
            for name in names {
                guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) else { continue }
                files[name] = (types[(name as NSString).pathExtension] ?? "application/octet-stream", [UInt8](data))
            }
        }
        return DashboardAssets(files: files)
    }

    func response(for name: String) -> Response {
        guard let file = files[name] else { return json(.notFound, ["error": "no such file"]) }
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
