// FlowForge — what the API knows about its run: the event history, the live worker, the rollout mode.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import Foundation
import Synchronization

/// The run's state, shared between the channel thread and HTTP handlers.
public final class RunState: Sendable {
    struct Data {
        var runID = ""
        /// The worker's name and command as the user gave them (`run.started`).
        var name = ""
        var command = ""
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
        /// The reaper's pid (from the reaper's welcome): what `flowforge stop --grace` signals to escalate.
        var reaperPID: Int32 = 0
        /// When the newest generation started (its `worker.started`), nil until that event is in.
        var workerStarted: (ts: String, nanos: Int64)?
        /// Detector incidents opened and not yet closed or recovered.
        var openIncidents = Set<String>()
        /// What the current generation said on its NOTIFY_SOCKET (`worker.notify`): READY=1, STATUS=, STOPPING=1.
        var notify = NotifyState()
    }

    /// A generation's sd_notify state, as `/runs` shows it.
    public struct NotifyState: Sendable, Equatable {
        /// The generation that said it (a `worker.notify` can be ingested before its `worker.started`).
        public var generation: UInt32 = 0
        public var ready = false
        public var status: String?
        public var stopping = false
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

    public func setRun(_ runID: String, workerPID: Int32, generation: UInt32, reaperPID: Int32 = 0) {
        data.withLock {
            $0.runID = runID
            if reaperPID > 0 { $0.reaperPID = reaperPID }
            if workerPID > 0 {
                $0.workerPID = workerPID
                $0.generation = generation
                $0.workerAlive = true
            }
        }
    }

    public var degraded: Bool { data.withLock { $0.degraded } }
    /// The current generation's sd_notify state (`notify` may still hold an earlier generation's: none said yet).
    public var notify: NotifyState { data.withLock { $0.notify.generation == $0.generation ? $0.notify : NotifyState() } }

    /// The reaper's pid, 0 until the reaper's welcome.
    public var reaperPID: Int32 { data.withLock { $0.reaperPID } }
    /// Restarts so far: generations started after the first.
    public var restarts: Int { data.withLock { max(0, Int($0.generation) - 1) } }
    /// When the newest generation started (RFC 3339), if its `worker.started` is in the history.
    public var workerStarted: String? { data.withLock { $0.workerStarted?.ts } }
    /// Detector incidents open now (opened, not yet closed or recovered).
    public var openIncidents: Int { data.withLock { $0.openIncidents.count } }

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
            var event = event
            if event.seq > 0 {
                guard d.seen.insert(event.seq).inserted else { return false }
            }
            if d.runID.isEmpty { d.runID = event.runID }
            if d.name.isEmpty { d.name = event.name }
            // Events from the reaper's channel carry no name (spool lines do): they are the run's.
            if event.name.isEmpty { event.name = d.name }
            switch event.kind {
            case EventKind.runStarted.rawValue:
                d.name = event.fields["name"] ?? d.name
                d.command = event.fields["argv"] ?? d.command
                event.name = d.name
            case EventKind.workerStarted.rawValue:
                d.workerPID = Int32(event.fields["pid"] ?? "") ?? 0
                d.generation = event.generation
                d.workerAlive = true
                d.workerStarted = (event.ts, event.wallNanos)
            case EventKind.workerNotify.rawValue where event.generation >= d.notify.generation:
                if d.notify.generation < event.generation { d.notify = NotifyState(generation: event.generation) }
                if event.fields["ready"] == "1" { d.notify.ready = true }
                if event.fields["stopping"] == "1" { d.notify.stopping = true }
                if let status = event.fields["status"] { d.notify.status = status }
            case EventKind.incidentOpened.rawValue:
                if let id = event.incidentID { d.openIncidents.insert(id) }
            case EventKind.incidentClosed.rawValue, EventKind.incidentRecovered.rawValue:
                if let id = event.incidentID { d.openIncidents.remove(id) }
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

    /// The worker's name (`--name`, or the command's basename), once `run.started` or a named event is in.
    public var name: String { data.withLock { $0.name } }
    /// The worker's command as the user gave it.
    public var command: String { data.withLock { $0.command } }

    /// The worker's name, from the newest incident or sample that carries it.
    public var workerName: String? {
        data.withLock { d in d.events.last { $0.fields["worker"] != nil }?.fields["worker"] }
    }

    /// The latest sample's values, for /metrics.
    public var latestSample: [String: String]? {
        data.withLock { d in d.events.last { $0.kind == EventKind.sample.rawValue && $0.generation == d.generation }?.fields }
    }
}
