// FlowForge — what the reaper accepts from an agent: kinds per role, incident ids it can vouch for, a rate.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire

/// The reaper's check of every event and action request an agent sends, before anything is recorded or
/// acted on. An agent is a sandboxed process, but a compromised or buggy one must not be able to forge the
/// run's history (a `worker.exited` that never happened, an incident closed that was never opened), flood
/// the events file, or reuse an incident id. A refused message is dropped and counted; the agent stays
/// connected (a malformed *frame* is different: the reaper disconnects and restarts the agent).
///
/// Pure: the caller passes the run's facts and the time.
struct AgentEventGate {
    /// Why a message was dropped: the `reason` label of the reaper's `agent.rejected` event.
    enum Refusal: String, CaseIterable, Sendable {
        /// The role may not send this kind (the API agent sends no events at all).
        case kind
        /// A generation that has not started yet (or 0).
        case generation
        /// A missing, malformed, reused or unknown incident id.
        case incident
        /// A field key that is not `[a-z0-9_]`, repeated, or reserved for the reaper (`seq`).
        case field
        /// Over the role's rate.
        case rate
    }

    enum Verdict: Equatable {
        case accept
        case drop(Refusal)
    }

    /// What the detector may report. Everything else in the run's history is the reaper's to write.
    static let detectorKinds: Set<String> = Set([EventKind.sample, .incidentOpened, .incidentClosed, .incidentRecovered, .policyDecision,
                                                 .workerNotify].map(\.rawValue))

    /// Token bucket: `burst` messages at once, `perSecond` sustained. The detector sends one sample per
    /// sample interval (at least 50 ms, so at most 20 a second) plus a few incident events; a healthy one
    /// never comes near.
    static let burst = 128.0
    static let perSecond = 32.0

    let role: AgentRole
    let runID: String
    private var tokens = AgentEventGate.burst
    private var refilledAt: UInt64?
    /// Incident ids this agent opened that are not closed yet: the detector keeps at most one open (it
    /// closes a relapsed one before opening the next); the gate allows four and no more.
    private(set) var openIncidents: [String] = []
    /// The highest incident number seen in this run, from any instance of the agent: a respawned detector
    /// starts numbering above it (`incident_base` in `run.policy`), so an id is never issued twice.
    private(set) var highestIncident: UInt64 = 0
    /// Drops since the last report, by reason.
    private(set) var pending: [Refusal: UInt64] = [:]
    /// Drops over the whole run.
    private(set) var total: UInt64 = 0

    init(role: AgentRole, runID: String) {
        self.role = role
        self.runID = runID
    }

    /// The agent restarted: its open incidents are gone with it (their numbers stay used).
    mutating func agentRestarted() {
        openIncidents.removeAll()
    }

    /// Whether `event` may be published; on `.accept` the gate has recorded its incident bookkeeping.
    mutating func admit(_ event: Event, currentGeneration: UInt32, now: UInt64) -> Verdict {
        let verdict = check(event, currentGeneration: currentGeneration, now: now)
        if case .drop(let why) = verdict { count(why) }
        return verdict
    }

    /// Whether an action request may reach the state machine (rate only: its content is the machine's to judge).
    mutating func admitRequest(now: UInt64) -> Verdict {
        guard take(now: now) else {
            count(.rate)
            return .drop(.rate)
        }
        return .accept
    }

    /// Takes the drops counted since the last call (for the reaper's periodic `agent.rejected` report).
    mutating func takePending() -> [Refusal: UInt64] {
        defer { pending.removeAll() }
        return pending
    }

    private mutating func count(_ why: Refusal) {
        pending[why, default: 0] += 1
        total += 1
    }

    private mutating func check(_ event: Event, currentGeneration: UInt32, now: UInt64) -> Verdict {
        guard role == .detector, AgentEventGate.detectorKinds.contains(event.kind) else { return .drop(.kind) }
        guard event.generation > 0, event.generation <= currentGeneration else { return .drop(.generation) }
        var keys = Set<String>()
        for field in event.fields {
            guard field.key != "seq", AgentEventGate.isPlainKey(field.key), keys.insert(field.key).inserted else {
                return .drop(.field)
            }
        }
        guard take(now: now) else { return .drop(.rate) }
        guard event.kind != EventKind.sample.rawValue else { return .accept }
        if event.kind == EventKind.workerNotify.rawValue {
            // The worker's sd_notify messages belong to no incident: one naming an incident would join its chain.
            return event.fields.contains { $0.key == "incident_id" } ? .drop(.field) : .accept
        }
        guard let id = event.fields.first(where: { $0.key == "incident_id" })?.value,
              let number = incidentNumber(id) else { return .drop(.incident) }
        switch event.kind {
        case EventKind.incidentOpened.rawValue:
            guard number > highestIncident, openIncidents.count < 4 else { return .drop(.incident) }
            highestIncident = number
            openIncidents.append(id)
        case EventKind.incidentClosed.rawValue, EventKind.incidentRecovered.rawValue:
            guard let i = openIncidents.firstIndex(of: id) else { return .drop(.incident) }
            openIncidents.remove(at: i)
        default: // policy.decision (log mode): about an incident that is open
            guard openIncidents.contains(id) else { return .drop(.incident) }
        }
        return .accept
    }

    /// `<run id>-<1 to 9 digits>`: the form the detector numbers its incidents in.
    private func incidentNumber(_ id: String) -> UInt64? {
        let utf8 = id.utf8
        let prefix = runID.utf8
        guard utf8.count > prefix.count + 1, utf8.count <= prefix.count + 10, utf8.starts(with: prefix) else { return nil }
        let rest = utf8.dropFirst(prefix.count)
        guard rest.first == UInt8(ascii: "-") else { return nil }
        var n: UInt64 = 0
        for byte in rest.dropFirst() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            n = n * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return n > 0 ? n : nil
    }

    private mutating func take(now: UInt64) -> Bool {
        if let last = refilledAt {
            let elapsed = now > last ? Double(now - last) / 1e9 : 0
            tokens = min(AgentEventGate.burst, tokens + elapsed * AgentEventGate.perSecond)
        }
        refilledAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    static func isPlainKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { b in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "_")
        }
    }
}
