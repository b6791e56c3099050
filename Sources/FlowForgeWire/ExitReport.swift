// FlowForge — how a worker process ended
// SPDX-License-Identifier: Apache-2.0

/// Whether a process exited normally or was terminated by a signal.
public enum ExitKind: UInt8, Sendable, Equatable, Hashable, CaseIterable {
    /// The process called exit; `ExitReport.code` is its exit status.
    case exited = 1
    /// The process was killed by a signal; `ExitReport.code` is the signal number.
    case signaled = 2
}

/// The decoded wait status of a worker: exit status or terminating signal.
public struct ExitReport: Sendable, Equatable, Hashable {
    /// Normal exit or signal.
    public let kind: ExitKind
    /// Exit status for `.exited`, signal number for `.signaled`.
    public let code: Int32

    /// Creates a report.
    public init(kind: ExitKind, code: Int32) {
        self.kind = kind
        self.code = code
    }
}
