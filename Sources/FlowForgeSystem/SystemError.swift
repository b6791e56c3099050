// FlowForge — the one error type of FlowForgeSystem, and the errno values callers tell apart.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, and the errno it left.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call that failed, e.g. `"pidfd_open"`.
    public let call: String
    /// The errno value.
    public let errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        guard let text = strerror(errno) else { return "\(call): errno \(errno)" }
        return "\(call): \(String(cString: text)) (errno \(errno))"
    }
}

/// The errno values FlowForge's modules tell apart, named as swift-system's `Errno` names them, so that no
/// module but this one needs Glibc for a constant.
public enum Errno {
    /// EAGAIN (EWOULDBLOCK is the same value on Linux): nothing to read, or no room to write, right now.
    public static let wouldBlock = EAGAIN
    /// EINVAL.
    public static let invalidArgument = EINVAL
    /// EOPNOTSUPP: e.g. RWF_NOWAIT on a file type without it.
    public static let notSupported = EOPNOTSUPP
    /// ESRCH: the process or group has exited (or a pidfd's process was reaped).
    public static let noSuchProcess = ESRCH
    /// EPERM.
    public static let notPermitted = EPERM
    /// EIO: the catch-all for a failure that carries no errno of its own.
    public static let ioError = EIO
    /// ECONNABORTED: a connection went away before it was accepted.
    public static let connectionAborted = ECONNABORTED
}
