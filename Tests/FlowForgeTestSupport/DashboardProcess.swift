// FlowForge — test support: the real `flowforge dashboard` on a loopback port, over a given state directory.
// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A `flowforge dashboard --listen 127.0.0.1:<free port>`; its output is appended to `<state>/dashboard-test.log`.
///
/// Stopping it is the caller's (`stop()`, or `killHard()` to leave the store mid-write); `deinit` stops it too.
public final class DashboardProcess {
    public let process = Process()
    public let port: UInt16
    public let stateDir: String
    public var logPath: String { stateDir + "/dashboard-test.log" }
    public var pid: Int32 { process.processIdentifier }
    private var started = false

    /// - Parameters:
    ///   - env: merged over this process's environment (FLOWFORGE_STATE_DIR is `stateDir`; a nil value unsets).
    public init(stateDir: String, options: [String] = [], env extra: [String: String?] = [:]) throws {
        self.stateDir = stateDir
        port = try LoopbackHTTP.freePort()
        process.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        process.arguments = ["dashboard", "--listen", "127.0.0.1:\(port)"] + options
        var env = ProcessInfo.processInfo.environment
        env["FLOWFORGE_STATE_DIR"] = stateDir
        for (k, v) in extra { env[k] = v }
        process.environment = env
        let log = stateDir + "/dashboard-test.log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        started = true
    }

    deinit { stop() }

    /// What the dashboard printed (every start over this state directory).
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Whether `/healthz` answers 200 within `timeout` seconds.
    public func waitUntilServing(timeout: Double = 15) -> Bool {
        eventually(timeout: timeout) { process.isRunning && (try? get("/healthz"))?.status == 200 }
    }

    public func get(_ target: String, _ headers: [(String, String)] = []) throws -> HTTPReply {
        try LoopbackHTTP.request(port: port, method: "GET", target: target, headers: headers)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `timeout` seconds.
    public func stop(timeout: Double = 10) {
        guard started else { return }
        if process.isRunning {
            process.terminate()
            if !eventually(timeout: timeout, { !process.isRunning }) { kill(pid, SIGKILL) }
        }
        process.waitUntilExit()
    }

    /// SIGKILL: no clean shutdown, whatever it was writing stays half done.
    public func killHard() {
        guard started else { return }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}
