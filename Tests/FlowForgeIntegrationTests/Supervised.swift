// FlowForge — test support: start the real `flowforge run`, find its processes, wait on readiness.
// SPDX-License-Identifier: Apache-2.0
import Foundation
import FlowForgeSystem
import Testing

/// The package root, from this file's path.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The debug build's binaries (scripts/test.sh runs `swift build` before `swift test`).
let binDir = packageRoot + "/.build/debug"

/// A `flowforge run` started by a test, with its output captured to files.
final class Supervised {
    let process = Process()
    let dir: String
    var pid: Int32 { process.processIdentifier }
    /// Signalled once per reader thread at EOF (only with `pipes`).
    private let drained = DispatchSemaphore(value: 0)
    private var readers = 0

    /// With `pipes`, FlowForge's stdout and stderr are pipes (as in `flowforge run ... | next`), drained by
    /// reader threads into the same files; otherwise they are the files themselves.
    init(_ runArgs: [String], env extra: [String: String] = [:], stdin: FileHandle? = nil, pipes: Bool = false) throws {
        dir = NSTemporaryDirectory() + "ff-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        process.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        process.arguments = ["run"] + runArgs
        var env = ProcessInfo.processInfo.environment
        env["PYTHONUNBUFFERED"] = nil
        env["FLOWFORGE_STATE_DIR"] = dir + "/state" // spools and control sockets stay inside the test's folder
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

    var stdout: String { (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? "" }
    var stdoutData: Data { FileManager.default.contents(atPath: dir + "/out") ?? Data() }

    /// Direct children of the reaper, by role.
    func children() -> [Int32] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else { return [] }
        return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func child(named name: String) -> Int32? {
        children().first { cmdline($0).first.map { ($0 as NSString).lastPathComponent == name } ?? false }
    }

    /// The worker leader: the child that is neither an agent nor the spawner.
    func worker() -> Int32? {
        children().first { pid in
            let argv = cmdline(pid)
            guard let first = argv.first else { return false }
            let base = (first as NSString).lastPathComponent
            return !["flowforge-detector", "flowforge-api", "flowforge-reaper"].contains(base)
        }
    }

    func waitForExit(timeout: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { return false }
        process.waitUntilExit() // lets Foundation finish recording the status
        // With pipes, everything FlowForge wrote is in the files once the readers saw EOF.
        for _ in 0..<readers where drained.wait(timeout: .now() + max(1, deadline.timeIntervalSinceNow)) == .timedOut {
            return false
        }
        readers = 0
        return true
    }

    func signal(_ s: Int32) { kill(pid, s) }

    /// The exit status, or nil while it runs (Foundation traps on terminationStatus of a running process).
    var exitCode: Int32? {
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

func cmdline(_ pid: Int32) -> [String] {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
@discardableResult
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

func isAlive(_ pid: Int32) -> Bool {
    guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = s.lastIndex(of: ")") else { return false }
    let state = s[s.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// PIDs of live processes whose environment carries `marker` (how tests find a tree without names).
func processes(withMarker marker: String) -> [Int32] {
    let needle = Data(("FLOWFORGE_TEST_MARKER=" + marker).utf8)
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard isAlive(pid), let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        return env.split(separator: 0).contains { Data($0) == needle }
    }
}

func killMarked(_ marker: String) {
    for pid in processes(withMarker: marker) { kill(pid, SIGKILL) }
}

let isRoot = geteuid() == 0

/// Whether FlowForge will use cgroups here (root and a writable cgroup2 hierarchy).
let cgroupsUsable: Bool = {
    guard isRoot, let parent = Cgroup.parentDirectory() else { return false }
    let probe = parent + "/flowforge-probe-\(getpid())"
    guard mkdir(probe, 0o755) == 0 else { return false }
    rmdir(probe)
    return true
}()

enum Executable {
    static func onPath(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }
}
