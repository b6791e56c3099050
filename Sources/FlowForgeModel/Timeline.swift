// FlowForge — incidents as `/timeline` lists them, and the drilldown chain of one.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire

/// An incident group as `/timeline` lists it.
public struct IncidentSummary: Sendable {
    public var id: String
    public var runID: String
    /// The worker's name (`--name`); "" for runs recorded before names.
    public var name: String = ""
    public var worker: String
    public var start: String
    public var end: String
    public var startNanos: Int64
    public var action: String
    public var rolloutMode: String
    public var operator_: Bool
    public var peakCPU: Double?
    public var peakConfidence: Double?
    public var minEntropy: Double?
    public var reason: String
    /// The worker generation the incident acted on (its first event's).
    public var generation: UInt32 = 0
    /// How the incident ended for the run: `restarted` (a new generation started), `crash-loop stopped` (the
    /// crash-loop guard refused the restart and the run ended), `stopped` (a restart became a stop: the run is
    /// degraded), or "" (in progress, a kill, or a log-only decision).
    public var outcome: String = ""

    public init(id: String, runID: String, worker: String, start: String, end: String, startNanos: Int64, action: String,
                rolloutMode: String, operator_: Bool, peakCPU: Double?, peakConfidence: Double?, minEntropy: Double?, reason: String) {
        self.id = id
        self.runID = runID
        self.worker = worker
        self.start = start
        self.end = end
        self.startNanos = startNanos
        self.action = action
        self.rolloutMode = rolloutMode
        self.operator_ = operator_
        self.peakCPU = peakCPU
        self.peakConfidence = peakConfidence
        self.minEntropy = minEntropy
        self.reason = reason
    }

    public var json: [String: Any] {
        var out: [String: Any] = ["id": id, "run_id": runID, "name": name, "worker": worker, "start": start, "end": end,
                                  "action": action, "rollout_mode": rolloutMode, "operator": operator_, "reason": reason,
                                  "generation": generation, "outcome": outcome]
        var peak: [String: Any] = [:]
        if let peakCPU { peak["cpu_percent"] = peakCPU }
        if let peakConfidence { peak["confidence"] = peakConfidence }
        if let minEntropy { peak["entropy"] = minEntropy }
        out["peak_scores"] = peak
        return out
    }
}

extension IncidentSummary {
    /// The summary of an incident whose first event is `e` (before `absorb(e)`).
    public init(first e: TimelineEvent, id: String) {
        self.init(id: id, runID: e.runID, worker: "", start: e.ts, end: e.ts, startNanos: e.wallNanos, action: "",
                  rolloutMode: "", operator_: id.contains("-op"), peakCPU: nil, peakConfidence: nil, minEntropy: nil, reason: "")
        generation = e.generation
    }

    /// Folds the incident's next event (in sequence order) into the summary. Each event costs O(1): the store
    /// updates a stored summary with the new events only, so ingestion is linear in an incident's length.
    public mutating func absorb(_ e: TimelineEvent) {
        end = e.ts
        if !e.name.isEmpty { name = e.name }
        if let w = e.fields["worker"] { worker = w }
        if let cpu = e.fields["cpu_percent"].flatMap(Double.init), cpu.isFinite { peakCPU = max(peakCPU ?? cpu, cpu) }
        if let c = e.fields["confidence"].flatMap(Double.init), c.isFinite { peakConfidence = max(peakConfidence ?? c, c) }
        if let h = e.fields["entropy"].flatMap(Double.init), h.isFinite { minEntropy = min(minEntropy ?? h, h) }
        switch e.kind {
        case EventKind.incidentOpened.rawValue: reason = e.fields["reason"] ?? reason
        case EventKind.actionRequested.rawValue:
            if reason.isEmpty { reason = e.fields["reason"] ?? "" }
            if worker.isEmpty { worker = e.fields["by"] == "api" ? "operator" : worker }
        case EventKind.policyDecision.rawValue:
            action = e.fields["decision"] ?? action
            rolloutMode = e.fields["mode"] ?? rolloutMode
        case EventKind.workerStarted.rawValue where e.generation > generation:
            outcome = "restarted"
        case EventKind.restartSuppressed.rawValue:
            outcome = RestartSuppression(reason: e.fields["reason"] ?? "") == .crashLoop ? "crash-loop stopped" : "stopped"
        default: break
        }
    }
}

/// Groups events into incidents and builds drilldown chains.
public enum Timeline {
    public static func incidents(_ events: [TimelineEvent]) -> [IncidentSummary] {
        var byID: [String: IncidentSummary] = [:]
        var order: [String] = []
        for e in events {
            guard let id = e.incidentID else { continue }
            if byID[id] == nil {
                order.append(id)
                byID[id] = IncidentSummary(first: e, id: id)
            }
            byID[id]?.absorb(e)
        }
        return order.compactMap { byID[$0] }.sorted { $0.startNanos > $1.startNanos }
    }

    /// 30 s before `nanos`, clamped (a spool's time can be as early as 1678, and the subtraction must not trap).
    public static func windowStart(_ nanos: Int64) -> Int64 {
        let (value, overflow) = nanos.subtractingReportingOverflow(30_000_000_000)
        return overflow ? .min : value
    }

    /// The drilldown chain: the incident's own events plus the samples of its generation from 30 s before
    /// it opened to its end, in order.
    public static func chain(_ events: [TimelineEvent], incident: String) -> [TimelineEvent]? {
        let own = events.filter { $0.incidentID == incident }
        guard let first = own.first, let last = own.last else { return nil }
        let from = windowStart(first.wallNanos)
        return events.filter { e in
            e.incidentID == incident
                || (e.kind == EventKind.sample.rawValue && e.generation == first.generation && e.runID == first.runID
                    && e.wallNanos >= from && e.wallNanos <= last.wallNanos)
        }
    }
}
