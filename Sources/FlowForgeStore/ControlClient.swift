// FlowForge — the dashboard's client of a run's control socket: bounded in time, and a hung run is remembered.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import Foundation
import Synchronization

/// One request per connection to a run's control socket (`runs/<run_id>.sock`), with a deadline on everything:
/// the connect (non-blocking: a listener whose backlog is full would otherwise block `connect` for good), the
/// write and the reply.
///
/// - Important: `/runs` and `/metrics` ask every live run for its status from an HTTP handler. A run whose API
///   agent accepts and never answers (or never accepts) used to cost a full second per request and per socket,
///   and a full backlog blocked the handler outright. Now a status request waits at most
///   `statusTimeoutMillis`, and a socket that missed it is skipped for `quarantineSeconds`.
public enum ControlClient {
    /// The longest a status request (`/runs`, `/metrics`, the checks before an action) waits for one run.
    public static let statusTimeoutMillis = 300
    /// How long a socket that did not answer a status request is skipped.
    public static let quarantineSeconds: Double = 30

    static let unresponsive = Mutex<[String: Date]>([:])

    /// The run's status, or nil when its socket is absent, refuses, does not answer in time, or was
    /// unresponsive in the last `quarantineSeconds`.
    public static func status(_ path: String) -> [String: Any]? {
        let now = Date()
        let skip = unresponsive.withLock { map -> Bool in
            if let until = map[path], until > now { return true }
            map[path] = nil
            return false
        }
        if skip { return nil }
        switch exchange(path, ["op": "status"], timeoutMillis: statusTimeoutMillis) {
        case .reply(let reply): return reply
        case .noListener: return nil
        case .timedOut:
            unresponsive.withLock { $0[path] = Date().addingTimeInterval(quarantineSeconds) }
            return nil
        }
    }

    /// One request with a reply deadline (an action waits for the reaper, up to 5 s, so its callers give more).
    public static func request(_ path: String, _ body: [String: Any], timeoutMillis: Int = 10_000) -> [String: Any]? {
        if case .reply(let reply) = exchange(path, body, timeoutMillis: timeoutMillis) { return reply }
        return nil
    }

    /// One request, telling a run that is gone (``Outcome/noListener``) from one that did not answer in time.
    public static func ask(_ path: String, _ body: [String: Any], timeoutMillis: Int = 10_000) -> Outcome {
        exchange(path, body, timeoutMillis: timeoutMillis)
    }

    public enum Outcome {
        case reply([String: Any])
        /// No socket file, nothing listening, the connection closed before a reply, or not a control socket: no
        /// run to wait for.
        case noListener
        /// Connected (or queued) but no complete reply in time.
        case timedOut
    }

    static func exchange(_ path: String, _ body: [String: Any], timeoutMillis: Int) -> Outcome {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMillis) * 1_000_000
        func remaining() -> Int32 {
            let now = DispatchTime.now().uptimeNanoseconds
            return now >= deadline ? 0 : Int32(clamping: (deadline - now) / 1_000_000 + 1)
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return .noListener }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        // SOCK_NONBLOCK at creation: no fcntl needed (the dashboard's filter may restrict its commands).
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .noListener }
        defer { close(fd) }
        while true {
            let rc = withUnsafePointer(to: &addr) { address in
                sysResult("connect") {
                    address.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
            guard case .failure(let error) = rc else { break }
            // EAGAIN: the listener's backlog is full (it is not accepting). Retry briefly, within the deadline.
            guard error.errno == Errno.wouldBlock else { return .noListener }
            guard remaining() > 0 else { return .timedOut }
            usleep(10_000)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: body) else { return .noListener }
        var out = Array(data) + [UInt8(ascii: "\n")]
        while !out.isEmpty {
            guard let ready = try? Poll.wait(for: fd, .writable, timeoutMillis: remaining()), !ready.isEmpty else { return .timedOut }
            let sent = out.withUnsafeBytes { bytes in sysResult("send") { send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) } }
            let n: Int
            switch sent {
            case .success(let count): n = count
            case .failure(let error) where error.errno == Errno.wouldBlock: continue
            case .failure: return .noListener
            }
            out.removeFirst(n)
        }
        var line: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while line.count < 256 * 1024 {
            guard let ready = try? Poll.wait(for: fd, .readable, timeoutMillis: remaining()), !ready.isEmpty else { return .timedOut }
            let received = buffer.withUnsafeMutableBytes { bytes in sysResult("recv") { recv(fd, bytes.baseAddress, bytes.count, 0) } }
            let n: Int
            switch received {
            case .success(let count): n = count
            case .failure(let error) where error.errno == Errno.wouldBlock: continue
            case .failure: return .noListener
            }
            if n == 0 { break }
            if let newline = buffer[0..<n].firstIndex(of: UInt8(ascii: "\n")) {
                line += buffer[0..<newline]
                return parse(line)
            }
            line += buffer[0..<n]
        }
        return line.isEmpty ? .noListener : parse(line)
    }

    static func parse(_ line: [UInt8]) -> Outcome {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else { return .noListener }
        return .reply(object)
    }
}
