// FlowForge — pidfd-based signalling and reaping: a pidfd pins its process, so PID reuse cannot misdirect a signal.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

/// How a process ended.
public enum ExitStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
}

/// Signalling and reaping through pidfds.
public enum Pidfd {
    /// Opens a pidfd for `pid`; nil when the process is gone.
    public static func open(_ pid: Int32) -> Int32? {
        try? sys("pidfd_open") { ffsys_pidfd_open(pid) }
    }

    /// Sends `signal` to the process, or to its whole process group when `group` is set.
    ///
    /// - Important: the group variant needs Linux >= 6.9 (PIDFD_SIGNAL_PROCESS_GROUP). Callers fall back to
    ///   `Signal.send(toGroup:)` while the leader is still an unreaped zombie when this throws EINVAL.
    /// - Returns: `.noSuchProcess` (ESRCH) when the process has already been reaped: normal after its death.
    /// - Throws: `SystemError` for any other failure.
    public static func signal(_ pidfd: Int32, _ signal: Signal, group: Bool = false) throws(SystemError) -> SignalDelivery {
        try SignalDelivery.of("pidfd_send_signal(\(signal)\(group ? ", group" : ""))") {
            ffsys_pidfd_send_signal(pidfd, signal.rawValue, group ? 1 : 0)
        }
    }

    /// Checks (without reaping when `peek`) whether the child behind `pidfd` has exited.
    /// Throws ECHILD when it is not the caller's child.
    public static func exitStatus(_ pidfd: Int32, peek: Bool) throws -> ExitStatus? {
        var exited: Int32 = 0, code: Int32 = 0, signaled: Int32 = 0
        _ = try sys("waitid(P_PIDFD)") { ffsys_pidfd_wait(pidfd, peek ? 1 : 0, &exited, &code, &signaled) }
        guard exited != 0 else { return nil }
        return signaled != 0 ? .signaled(code) : .exited(code)
    }

    /// Reaps any one exited child. Returns nil when none is waiting (or there are no children).
    public static func reapAny() -> (pid: Int32, status: ExitStatus)? {
        var code: Int32 = 0, signaled: Int32 = 0
        // A failure is ECHILD (no children left): nothing to reap, as when none has exited.
        guard case .success(let pid) = sysResult("waitid(P_ALL)", { ffsys_reap_any(&signaled, &code) }), pid > 0 else {
            return nil
        }
        return (pid, signaled != 0 ? .signaled(code) : .exited(code))
    }
}
