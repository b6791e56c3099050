// FlowForge — test support: start the real `flowforge run`, find its processes, wait for it to exit.
// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A `flowforge run` started by a test, with its output captured to files.
public final class Supervised {
    public let process = Process()
    /// The test's own folder: `out`, `err`, and `state` (FLOWFORGE_STATE_DIR).
    public let dir: String
    public var pid: Int32 { process.processIdentifier }
    /// Signalled once per reader thread at EOF (only with `pipes`).
    private let drained = DispatchSemaphore(value: 0)
    private var readers = 0

    /// With `pipes`, FlowForge's stdout and stderr are pipes (as in `flowforge run ... | next`), drained by
    /// reader threads into the same files; otherwise they are the files themselves.
    ///
    /// - Parameter marker: put into the environment as `Marker.variable`, so `processes(withMarker:)` finds the run.
    public init(_ runArgs: [String], env extra: [String: String] = [:], marker: String? = nil, stdin: FileHandle? = nil,
                pipes: Bool = false) throws {
        dir = try makeTemporaryDirectory("ff-test")
        _ = FileManager.default.createFile(atPath: dir + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        process.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        process.arguments = ["run"] + runArgs
        var env = ProcessInfo.processInfo.environment
        env["PYTHONUNBUFFERED"] = nil
        env["FLOWFORGE_STATE_DIR"] = dir + "/state" // spools and control sockets stay inside the test's folder
        if let marker { env[Marker.variable] = marker }
        for (k, v) in extra { env[k] = v }
        process.environment = env
        process.standardInput = stdin ?? FileHandle.nullDevice
        if pipes {
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            // Our copies of the write ends must go, or the readers never see EOF.
            try? out.fileHandleForWriting.close()
            try? err.fileHandleForWriting.close()
            drain(out.fileHandleForReading, into: dir + "/out")
            drain(err.fileHandleForReading, into: dir + "/err")
        } else {
            process.standardOutput = FileHandle(forWritingAtPath: dir + "/out")
            process.standardError = FileHandle(forWritingAtPath: dir + "/err")
            try process.run()
        }
    }

    private func drain(_ source: FileHandle, into path: String) {
        readers += 1
        let done = drained
        let fd = source.fileDescriptor
        Thread.detachNewThread {
            let sink = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                _ = buffer.withUnsafeBytes { write(sink, $0.baseAddress, n) }
            }
            close(sink)
            try? source.close()
            done.signal()
        }
    }

    public var stdout: String { (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? "" }
    public var stdoutData: Data { FileManager.default.contents(atPath: dir + "/out") ?? Data() }

    /// Direct children of the reaper, by role.
    public func children() -> [Int32] { childProcesses(of: pid) }

    public func child(named name: String) -> Int32? {
        children().first { cmdline($0).first.map { ($0 as NSString).lastPathComponent == name } ?? false }
    }

    /// The worker leader: the child that is neither an agent nor the spawner.
    public func worker() -> Int32? {
        children().first { pid in
            let argv = cmdline(pid)
            guard let first = argv.first else { return false }
            let base = (first as NSString).lastPathComponent
            return !["flowforge-detector", "flowforge-api", "flowforge-reaper"].contains(base)
        }
    }

    public func waitForExit(timeout: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        guard eventually(timeout: timeout, { !process.isRunning }) else { return false }
        process.waitUntilExit() // lets Foundation finish recording the status
        // With pipes, everything FlowForge wrote is in the files once the readers saw EOF.
        for _ in 0..<readers where drained.wait(timeout: .now() + max(1, deadline.timeIntervalSinceNow)) == .timedOut {
            return false
        }
        readers = 0
        return true
    }

    public func signal(_ s: Int32) { kill(pid, s) }

    /// The exit status, or nil while it runs (Foundation traps on terminationStatus of a running process).
    public var exitCode: Int32? {
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        let reason = process.terminationReason
        let status = process.terminationStatus
        return reason == .exit ? status : 1000 + status
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
