// FlowForge — why the reaper refused a restart: the wording it writes and the readers' reading of it, in one place.
// SPDX-License-Identifier: Apache-2.0

/// The cause of a `restart.suppressed` event. The reaper starts the event's `reason` with `reasonPrefix`;
/// the store's incident outcome, `flowforge ps` and the metrics' `reason` label (the raw value) read it back
/// with `init(reason:)`, so the two sides cannot drift.
public enum RestartSuppression: String, Sendable, CaseIterable {
    /// The crash-loop guard: too many restarts within the window; the run stops instead.
    case crashLoop = "crash_loop"
    /// The spawner is gone: no generation can start, so a restart becomes a stop.
    case degraded
    /// Anything else (a reason this build does not write).
    case other

    public var reasonPrefix: String {
        switch self {
        case .crashLoop: "crash-loop guard"
        case .degraded: "degraded"
        case .other: ""
        }
    }

    public init(reason: String) {
        self = [.crashLoop, .degraded].first { reason.hasPrefix($0.reasonPrefix) } ?? .other
    }
}
