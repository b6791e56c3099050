// FlowForge — test support: where the package and its debug build are.
// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The package root, from this file's path (`Tests/FlowForgeTestSupport/Paths.swift`).
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The debug build's binaries (scripts/test.sh runs `swift build` before `swift test`).
public let binDir = packageRoot + "/.build/debug"

/// A fresh folder under the temporary directory, named `<prefix>-<random>`; the caller removes it.
///
/// Random rather than `getpid()`: two suites (or two copies of `swift test`) never share one.
public func makeTemporaryDirectory(_ prefix: String) throws -> String {
    let dir = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString.prefix(8))"
    // 0700: it often is a state directory, which holds the API key and the runs' spools.
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return dir
}

/// Whether an executable called `name` is on `PATH`.
public func onPath(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
    }
}

public let isRoot = geteuid() == 0
