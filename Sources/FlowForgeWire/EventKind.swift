// FlowForge — every kind of event a run records: the one spelling every module shares.
// SPDX-License-Identifier: Apache-2.0

/// The kinds of `Event` FlowForge writes (the `kind` of a spool line, a `--events` line, a `/timeline` entry).
/// `Event.kind` stays a string on the wire and in files (a reader must cope with kinds it does not know);
/// code names kinds through this type so a misspelling does not compile.
public enum EventKind: String, Sendable, CaseIterable {
    // The reaper's own record of the run.
    /// The run's first event: the worker's `name` and its command as the user gave it (`argv`).
    case runStarted = "run.started"
    case runPolicy = "run.policy"
    case runHelpers = "run.helpers"
    case workerStarted = "worker.started"
    case workerExited = "worker.exited"
    case workerSpawnFailed = "worker.spawn_failed"
    case teardownMechanism = "teardown.mechanism"
    case teardownStarted = "teardown.started"
    case teardownSignal = "teardown.signal"
    case teardownEscalated = "teardown.escalated"
    case teardownFinished = "teardown.finished"
    case restartBackoff = "restart.backoff"
    case restartSuppressed = "restart.suppressed"
    case restartCancelled = "restart.cancelled"
    case actionRequested = "action.requested"
    case actionRejected = "action.rejected"
    case agentExited = "agent.exited"
    case agentDisconnected = "agent.disconnected"
    case agentRejected = "agent.rejected"
    case supervisorDegraded = "supervisor.degraded"
    /// A reading for the detector only (never recorded).
    case treeActivity = "tree.activity"
    // What the detector reports (`AgentEventGate.detectorKinds`), and the reaper's policy decisions.
    case sample = "sample"
    case incidentOpened = "incident.opened"
    case incidentClosed = "incident.closed"
    case incidentRecovered = "incident.recovered"
    /// What the worker said on its NOTIFY_SOCKET (sd_notify): `ready`, `status`, `stopping`, `watchdog_usec`,
    /// `watchdog` (`trigger`); pings (`WATCHDOG=1`) are not events, samples carry their age.
    case workerNotify = "worker.notify"
    case policyDecision = "policy.decision"
}

extension Event {
    /// An event of a known kind.
    public init(kind: EventKind, generation: UInt32, wallNanos: Int64, fields: [Field] = []) throws(WireError) {
        try self.init(kind: kind.rawValue, generation: generation, wallNanos: wallNanos, fields: fields)
    }

    /// The kind, when it is one FlowForge writes.
    public var knownKind: EventKind? { EventKind(rawValue: kind) }
}
