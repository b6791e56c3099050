// FlowForge — the syscall funnel: every libc call of FlowForge goes through here, and EINTR is retried
// here and nowhere else.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` until it does not fail with EINTR; returns its result, or the errno it failed with.
///
/// `body` follows the libc convention: -1 (any negative value, for the shim's `ssize_t` calls) with errno
/// set means failure. This is the non-throwing form, for paths that expect some failures (EAGAIN on a
/// non-blocking descriptor, ESRCH from a signal to a process that just exited) and switch on them; `sys`
/// is the throwing form of the same loop. The NIO `syscall(blocking:)` pattern.
///
/// - Important: a call with a timeout (poll) restarts with its full timeout after EINTR. FlowForge's
///   processes take signals through signalfd or `sigwait` (blocked) or with `SA_RESTART`, so an EINTR is
///   rare, and the overshoot is bounded by one timeout.
@inline(__always)
public func sysResult<T: FixedWidthInteger>(_ name: @autoclosure () -> String, _ body: () -> T) -> Result<T, SystemError> {
    while true {
        let result = body()
        if result < 0 {
            let code = Glibc.errno
            if code == EINTR { continue }
            return .failure(SystemError(name(), errno: code))
        }
        return .success(result)
    }
}

/// Runs `body`, retrying on EINTR, and throws `SystemError` when it fails (see `sysResult`).
///
/// - Throws: `SystemError` naming the call and its errno.
@inline(__always)
public func sys<T: FixedWidthInteger>(_ name: @autoclosure () -> String, _ body: () -> T) throws(SystemError) -> T {
    try sysResult(name(), body).get()
}
