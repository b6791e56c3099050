// FlowForge — actions an agent asks the reaper to take, and their outcomes
// SPDX-License-Identifier: Apache-2.0

/// What an `actionRequest` asks the reaper to do to the worker.
public enum ActionKind: UInt8, Sendable, Equatable, Hashable, CaseIterable {
    /// Stop the worker and start a new generation.
    case restart = 1
    /// Stop the worker and leave it stopped.
    case kill = 2
}

/// The reaper's answer to an `actionRequest`.
public enum ActionOutcome: UInt8, Sendable, Equatable, Hashable, CaseIterable {
    /// The action was accepted and is in progress.
    case accepted = 1
    /// The action was refused; the detail says why.
    case rejected = 2
    /// The action has finished.
    case completed = 3
}
