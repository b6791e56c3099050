// FlowForge — how an operator action reaches a live run, and what comes back.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire

/// The outcome of an operator action as the reaper answered it.
public struct ActionReply: Sendable {
    public var actionID: UInt64
    public var incidentID: String
    public var accepted: Bool
    public var detail: String

    public init(actionID: UInt64, incidentID: String, accepted: Bool, detail: String) {
        self.actionID = actionID
        self.incidentID = incidentID
        self.accepted = accepted
        self.detail = detail
    }
}

/// What became of a request for an action.
public enum ActionResult: Sendable {
    case done(ActionReply)
    case noLiveRun
    /// Several runs are live and no `run_id` said which: the live ones.
    case ambiguous([String])
    case unknownRun(String)
    /// The run did not answer (its reaper is gone or timed out): the action may or may not happen.
    case unavailable(String)
}

/// Where process actions go: the reaper's channel (a run's own API) or a run's control socket (the dashboard).
public protocol ActionSink: Sendable {
    /// Asks for `kind` on the live worker of `runID` (or of the only live run).
    func act(kind: ActionKind, reason: String, runID: String?) async -> ActionResult
}
