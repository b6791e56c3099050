// FlowForge — the reaper's policy for kill and restart requests, as pure values: the rollout draw, which
// incident each of its events belongs to, and what a request records before and after the state machine
// decides. The loop only carries the steps out.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire

/// Whether this run carries out the detector's kill and restart requests, drawn once per run.
public struct RolloutDecision: Sendable, Equatable {
    /// The detector's requests are carried out (enforce, or a canary draw inside the percentage). Operator
    /// requests from the API are carried out in every mode.
    public let detectorEnforced: Bool
    /// The `run.policy` event's fields: the mode, and for a canary its seed and draw, so it can be audited.
    public let fields: [String: String]

    /// `seed` is only read for a canary (draw = seed % 100, enforced when the draw is below the percentage).
    public init(rollout: ReaperConfig.Rollout, canaryPercent: Int, seed: UInt64) {
        var fields = ["mode": rollout.rawValue, "canary_percent": "\(canaryPercent)"]
        switch rollout {
        case .enforce: detectorEnforced = true
        case .shadow: detectorEnforced = false
        case .canary:
            let draw = Int(seed % 100)
            detectorEnforced = draw < canaryPercent
            fields["seed"] = "\(seed)"
            fields["draw"] = "\(draw)"
        }
        fields["enforced"] = detectorEnforced ? "true" : "false"
        self.fields = fields
    }
}

/// Which incident the reaper's own events belong to. An incident opens when the reaper accepts a kill or
/// restart and lasts until the next generation has started: the teardown, the exit and the new start carry
/// its id. A shadow decision or a refused request names its own id on its own events and opens nothing.
public struct IncidentLedger: Sendable, Equatable {
    public let runID: String
    /// The incident whose teardown (and restart) is in progress.
    public private(set) var active: String?

    public init(runID: String) { self.runID = runID }

    /// The id of the incident a request starts: the detector numbers its incidents with the action id,
    /// operator actions from the API get their own prefix (the API derives the same id from its action id).
    public func id(for role: AgentRole, actionID: UInt64) -> String {
        role == .detector ? "\(runID)-\(actionID)" : "\(runID)-op\(actionID)"
    }

    public mutating func open(_ incident: String) { active = incident }

    /// The incident an event of `kind` emitted now belongs to; a worker start is the incident's last event.
    public mutating func tag(_ kind: EventKind) -> String? {
        defer { if kind == .workerStarted { active = nil } }
        return active
    }
}

/// A kill or restart request from an agent.
public struct ActionRequest: Sendable, Equatable {
    public var role: AgentRole
    public var id: UInt64
    public var kind: ActionKind
    /// The generation it targets (0: the current one).
    public var generation: UInt32
    public var reason: String

    public init(role: AgentRole, id: UInt64, kind: ActionKind, generation: UInt32, reason: String) {
        self.role = role
        self.id = id
        self.kind = kind
        self.generation = generation
        self.reason = reason
    }

    var verb: String { kind == .restart ? "restart" : "kill" }
}

/// What the reaper records and answers for an action request, around the state machine's decision.
public struct ActionRequestPolicy: Sendable {
    public let rollout: ReaperConfig.Rollout
    public let detectorEnforced: Bool

    public init(rollout: ReaperConfig.Rollout, detectorEnforced: Bool) {
        self.rollout = rollout
        self.detectorEnforced = detectorEnforced
    }

    /// One thing to carry out: an event (with its incident, explicitly), the reply to the requesting agent, a log line.
    public enum Step: Sendable, Equatable {
        case emit(EventKind, incident: String?, fields: [String: String])
        case reply(ActionOutcome, String)
        case log(ReaperConfig.LogLevel, String)
    }

    public enum Plan: Sendable, Equatable {
        /// Answered without the state machine (the run does not enforce the detector's requests).
        case answered([Step])
        /// Carry out `before`, ask the state machine, then carry out `settle(...)`.
        case decide(before: [Step], incident: String)
    }

    /// `canAct`: a worker runs and no teardown is in progress (else the request is refused, and records no
    /// request event that would borrow the running incident's place).
    public func plan(_ r: ActionRequest, incident: String, canAct: Bool, workerPID: Int32) -> Plan {
        let requested: [Step] = canAct
            ? [.emit(.actionRequested, incident: incident,
                     fields: ["action_id": "\(r.id)", "kind": r.verb, "reason": r.reason, "by": "\(r.role)"])]
            : []
        if r.role == .detector && !detectorEnforced {
            return .answered(requested + [
                .log(.warn, "SHADOW (\(rollout.rawValue)): would \(r.verb) the worker (pid \(workerPID)): \(r.reason)"),
                .emit(.policyDecision, incident: incident,
                      fields: ["action_id": "\(r.id)", "decision": "would_\(r.verb)", "mode": rollout.rawValue, "enforced": "false"]),
                .reply(.rejected, "\(rollout.rawValue): would \(r.verb)"),
            ])
        }
        let target = r.generation == 0 ? "current" : "\(r.generation)"
        return .decide(before: requested + [.log(.info, "\(r.role) agent requests \(r.verb) of generation \(target): \(r.reason)")],
                       incident: incident)
    }

    /// What to record once the state machine accepted or refused the request (its reply is among its actions).
    /// An accepted request opens `incident`; a refused one is recorded outside any incident.
    public func settle(_ r: ActionRequest, incident: String, accepted: Bool) -> [Step] {
        guard accepted else {
            return [.emit(.actionRejected, incident: nil, fields: ["action_id": "\(r.id)", "kind": r.verb, "by": "\(r.role)"])]
        }
        let mode = r.role == .api ? "operator" : rollout.rawValue
        return [.emit(.policyDecision, incident: incident,
                      fields: ["action_id": "\(r.id)", "decision": r.verb, "mode": mode, "enforced": "true"])]
    }
}
