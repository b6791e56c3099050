// FlowForge — signal numbers as named values.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// A POSIX signal, named (`Signal.terminate`) instead of a raw `Int32`.
public struct Signal: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let hangup = Signal(rawValue: SIGHUP)
    public static let interrupt = Signal(rawValue: SIGINT)
    public static let quit = Signal(rawValue: SIGQUIT)
    public static let kill = Signal(rawValue: SIGKILL)
    public static let terminate = Signal(rawValue: SIGTERM)
    public static let child = Signal(rawValue: SIGCHLD)
    public static let badSystemCall = Signal(rawValue: SIGSYS)

    public var description: String {
        switch rawValue {
        case SIGHUP: "SIGHUP"
        case SIGINT: "SIGINT"
        case SIGQUIT: "SIGQUIT"
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGCHLD: "SIGCHLD"
        case SIGSYS: "SIGSYS"
        default: "signal \(rawValue)"
        }
    }
}

extension Signal {
    /// Blocks `signals` in the calling thread and every thread it starts afterwards: they stay pending until
    /// `wait(for:)` takes one. Unlike `SIG_IGN` followed by a handler, no signal is lost in between.
    ///
    /// - Important: call it before other threads exist; a thread started earlier keeps its mask and would
    ///   take the signal with its default action.
    public static func block(_ signals: [Signal]) {
        var set = sigset(signals)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits until one of `signals` (blocked by `block(_:)`) is pending, takes it and returns it
    /// (sigwait(3), rt_sigtimedwait underneath).
    public static func wait(for signals: [Signal]) -> Signal {
        var set = sigset(signals)
        var taken: Int32 = 0
        while sigwait(&set, &taken) != 0 {}
        return Signal(rawValue: taken)
    }

    private static func sigset(_ signals: [Signal]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s.rawValue) }
        return set
    }
}
