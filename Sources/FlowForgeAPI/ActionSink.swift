// FlowForge — how an operator action reaches a live run, and what comes back.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire

/// The outcome of an operator action as the reaper answered it.
public struct ActionReply: Sendable {
    public var actionID: UInt64
    public var incidentID: String
    public var accepted: Bool
    public var detail: String
}

/// Where process actions go: the reaper's channel (a run's own API) or a run's control socket (the dashboard).
public protocol ActionSink: Sendable {
    /// Asks for `kind` on the live worker. Returns nil when there is no live worker to act on.
    func act(kind: ActionKind, reason: String) async -> ActionReply?
}
