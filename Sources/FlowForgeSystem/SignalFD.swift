// FlowForge — the reaper's signals as a readable descriptor: handlers never run.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys

/// A signalfd for SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGQUIT (blocked, so only the descriptor sees them;
/// SIGPIPE is ignored).
///
/// - Important: open it before other threads exist: a thread started earlier keeps the old mask and would
///   take the signals with their default action.
public enum SignalFD {
    /// Blocks the signals above and returns a non-blocking signalfd for them.
    ///
    /// - Throws: `SystemError`.
    public static func open() throws(SystemError) -> Int32 {
        try sys("signalfd") { ffsys_signalfd_open() }
    }

    /// Takes one pending signal and the PID that sent it; nil when none is pending (or the read failed).
    public static func read(_ fd: Int32) -> (signal: Signal, pid: Int32)? {
        var pid: Int32 = 0
        guard case .success(let signo) = sysResult("read signalfd", { ffsys_signalfd_read(fd, &pid) }), signo > 0 else {
            return nil
        }
        return (Signal(rawValue: signo), pid)
    }
}
