// FlowForge — the one error type of FlowForgeSystem and the syscall funnel every call goes through.
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

/// Runs `body`, retrying on EINTR, and throws `SystemError` when it returns -1.
///
/// Every libc call of FlowForge goes through here (the NIO `syscall(blocking:)` pattern), so EINTR is
/// handled in exactly one place.
@inline(__always)
public func sys<T: FixedWidthInteger>(_ name: String, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result == -1 {
            let code = Glibc.errno
            if code == EINTR { continue }
            throw SystemError(name, errno: code)
        }
        return result
    }
}
