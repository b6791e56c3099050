// FlowForge — what the API knows about its run: the event history, the live worker, incidents, metrics.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import Foundation
import Synchronization

/// An incident group as `/timeline` lists it.
public struct IncidentSummary: Sendable {
    public var id: String
    public var runID: String
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
        var out: [String: Any] = ["id": id, "run_id": runID, "worker": worker, "start": start, "end": end,
                                  "action": action, "rollout_mode": rolloutMode, "operator": operator_, "reason": reason]
        var peak: [String: Any] = [:]
        if let peakCPU { peak["cpu_percent"] = peakCPU }
        if let peakConfidence { peak["confidence"] = peakConfidence }
        if let minEntropy { peak["entropy"] = minEntropy }
        out["peak_scores"] = peak
        return out
    }
}

/// The run's state, shared between the channel thread and HTTP handlers.
public final class RunState: Sendable {
    struct Data {
        var runID = ""
        var events: [TimelineEvent] = []
        var seen = Set<UInt64>()
        var workerPID: Int32 = 0
        var generation: UInt32 = 0
        var workerAlive = false
        var droppedBytes: UInt64 = 0
        var nextActionID: UInt64 = 1
        var rolloutMode = "enforce"
        /// The run lost its spawner (`supervisor.degraded`): the worker runs on, restarts become stops.
        var degraded = false
    }

    /// Events kept in memory (at least this many, oldest dropped first, in batches); the spool keeps everything.
    public static let capacity = 50_000
    let data = Mutex(Data())
    let started = Date()

    public init() {}

    public var runID: String { data.withLock { $0.runID } }
    public var uptime: TimeInterval { Date().timeIntervalSince(started) }

    /// The live worker, if any.
    public var liveWorker: (pid: Int32, generation: UInt32)? {
        data.withLock { $0.workerAlive ? ($0.workerPID, $0.generation) : nil }
    }

    public func setRun(_ runID: String, workerPID: Int32, generation: UInt32) {
        data.withLock {
            $0.runID = runID
            if workerPID > 0 {
                $0.workerPID = workerPID
                $0.generation = generation
                $0.workerAlive = true
            }
        }
    }

    public var degraded: Bool { data.withLock { $0.degraded } }

    public func setDropped(_ bytes: UInt64) { data.withLock { $0.droppedBytes = bytes } }
    public var droppedBytes: UInt64 { data.withLock { $0.droppedBytes } }

    /// An id for an operator action (the reaper derives the incident id `<run>-op<id>` from it).
    public func nextActionID() -> UInt64 {
        data.withLock { d in
            defer { d.nextActionID += 1 }
            return d.nextActionID
        }
    }

    /// Adds an event once (by sequence number), and follows the worker's lifecycle.
    @discardableResult
    public func ingest(_ event: TimelineEvent) -> Bool {
        data.withLock { d in
            if event.seq > 0 {
                guard d.seen.insert(event.seq).inserted else { return false }
            }
            if d.runID.isEmpty { d.runID = event.runID }
            switch event.kind {
            case EventKind.workerStarted.rawValue:
                d.workerPID = Int32(event.fields["pid"] ?? "") ?? 0
                d.generation = event.generation
                d.workerAlive = true
            case EventKind.workerExited.rawValue where event.generation == d.generation:
                d.workerAlive = false
            case EventKind.runPolicy.rawValue:
                d.rolloutMode = event.fields["mode"] ?? d.rolloutMode
            case EventKind.supervisorDegraded.rawValue:
                d.degraded = true
            default: break
            }
            // Keep order by sequence even when the spool and the channel interleave.
            if let last = d.events.last, last.seq > event.seq, event.seq > 0 {
                let index = d.events.firstIndex { $0.seq > event.seq } ?? d.events.endIndex
                d.events.insert(event, at: index)
            } else {
                d.events.append(event)
            }
            // Trim in batches: dropping one event from the front of 50 000 at every ingest cost O(capacity) per
            // event once the history was full.
            if d.events.count > RunState.capacity + RunState.capacity / 16 {
                let drop = d.events.count - RunState.capacity
                for e in d.events.prefix(drop) { d.seen.remove(e.seq) }
                d.events.removeFirst(drop)
            }
            return true
        }
    }

    public var events: [TimelineEvent] { data.withLock { $0.events } }

    /// The worker's name, from the newest incident or sample that carries it.
    public var workerName: String? {
        data.withLock { d in d.events.last { $0.fields["worker"] != nil }?.fields["worker"] }
    }

    /// The latest sample's values, for /metrics.
    public var latestSample: [String: String]? {
        data.withLock { d in d.events.last { $0.kind == EventKind.sample.rawValue && $0.generation == d.generation }?.fields }
    }
}

extension IncidentSummary {
    /// The summary of an incident whose first event is `e` (before `absorb(e)`).
    public init(first e: TimelineEvent, id: String) {
        self.init(id: id, runID: e.runID, worker: "", start: e.ts, end: e.ts, startNanos: e.wallNanos, action: "",
                  rolloutMode: "", operator_: id.contains("-op"), peakCPU: nil, peakConfidence: nil, minEntropy: nil, reason: "")
    }

    /// Folds the incident's next event (in sequence order) into the summary. Each event costs O(1): the store
    /// updates a stored summary with the new events only, so ingestion is linear in an incident's length.
    public mutating func absorb(_ e: TimelineEvent) {
        end = e.ts
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
