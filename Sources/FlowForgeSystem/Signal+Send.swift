// FlowForge — sending signals by PID and by process group, with "already gone" told apart from failure.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// What a signal found at its target.
public enum SignalDelivery: Sendable, Equatable {
    /// The kernel accepted it.
    case delivered
    /// ESRCH: the process (or every member of the group) had already exited, or the pidfd's process was
    /// reaped. The normal end of a race with a death, not an error.
    case noSuchProcess

    /// Runs a signal-sending call through the funnel: ESRCH becomes `.noSuchProcess`, any other failure throws.
    static func of(_ name: @autoclosure () -> String, _ body: () -> Int32) throws(SystemError) -> SignalDelivery {
        switch sysResult(name(), body) {
        case .success: return .delivered
        case .failure(let error) where error.errno == ESRCH: return .noSuchProcess
        case .failure(let error): throw error
        }
    }
}

extension Signal {
    /// Sends this signal to process `pid` (kill(2)). Prefer `Pidfd.signal`: a pidfd pins its process, a PID
    /// may have been reused.
    ///
    /// - Throws: `SystemError` for anything but ESRCH (EPERM: not ours to signal).
    public func send(toProcess pid: Int32) throws(SystemError) -> SignalDelivery {
        guard pid > 1 else { throw SystemError("kill(\(pid), \(self)) (not a single process)", errno: EINVAL) }
        return try SignalDelivery.of("kill(\(pid), \(self))") { Glibc.kill(pid, rawValue) }
    }

    /// Sends this signal to every process of group `pgid` (kill(-pgid)): the fallback where a pidfd cannot
    /// reach a group (Linux < 6.9).
    ///
    /// - Important: never the caller's own group; `pgid` 0 and 1 (kill(0) is the caller's group, kill(-1)
    ///   everything it may signal) are refused with EINVAL rather than sent.
    /// - Throws: `SystemError` for anything but ESRCH.
    public func send(toGroup pgid: Int32) throws(SystemError) -> SignalDelivery {
        guard pgid > 1 else { throw SystemError("kill(-\(pgid), \(self)) (not a single group)", errno: EINVAL) }
        return try SignalDelivery.of("kill(-\(pgid), \(self))") { Glibc.kill(-pgid, rawValue) }
    }

    /// Whether process `pid` exists, ours to signal or not (kill(pid, 0) succeeds or fails with EPERM).
    public static func processExists(_ pid: Int32) -> Bool {
        switch sysResult("kill(\(pid), 0)", { Glibc.kill(pid, 0) }) {
        case .success: true
        case .failure(let error): error.errno == EPERM
        }
    }
}
