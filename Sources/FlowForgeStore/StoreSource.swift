// FlowForge — the dashboard's view: every run from the store, live runs through their control sockets.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeMetrics
import FlowForgeModel
import FlowForgeSystem
import FlowForgeWire
import Foundation
import Synchronization

/// `TimelineSource` over the store, with live runs asked over their control sockets.
public struct StoreSource: TimelineSource {
    public let store: Store
    public let runsDirectory: String
    public let metrics: APIMetrics
    public let started = Date()
    /// The live runs' status as their control sockets last said it: `/runs` and `/metrics` read it, so a
    /// request costs no socket round trips (50 live runs took 50 of them per request); the dashboard's
    /// ingestion service refreshes it every second, and a request finding it older than that refreshes it.
    let live: LiveRunCache
    /// `/runs`'s body with the live-cache version and store change count it was built from.
    let runsBody = KeptBody()

    public init(store: Store, runsDirectory: String, metrics: APIMetrics, liveMaxAge: Double = 1.5) {
        self.store = store
        self.runsDirectory = runsDirectory
        self.metrics = metrics
        self.live = LiveRunCache(maxAge: liveMaxAge)
    }

    public func incidents(limit: Int, before: Int64?) -> [IncidentSummary] { (try? store.incidents(limit: limit, before: before)) ?? [] }

    public func chain(incident: String) -> [TimelineEvent]? { (try? store.chain(incident: incident)) ?? nil }

    public func chain(incident: String, after: UInt64, limit: Int) -> (events: [TimelineEvent], more: Bool)? {
        (try? store.chain(incident: incident, after: after, limit: limit)) ?? nil
    }

    /// Every run in the store; live ones carry what their API agent says now.
    public func runs() -> [[String: Any]] {
        let live = Dictionary(liveRuns().map { ($0["run_id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        var out: [[String: Any]] = []
        for run in (try? store.runs()) ?? [] {
            var stored: [String: Any] = ["worker": run.worker ?? ""]
            if !run.name.isEmpty { stored["name"] = run.name }
            if !run.command.isEmpty { stored["command"] = run.command }
            if let first = run.firstTS { stored["first_seen"] = first }
            if let l = live[run.runID] { out.append(l.merging(stored, uniquingKeysWith: { a, _ in a })) } else {
                out.append(stored.merging(["run_id": run.runID, "live": false, "last_seen": run.lastTS ?? ""], uniquingKeysWith: { a, _ in a }))
            }
        }
        for (id, l) in live where !out.contains(where: { $0["run_id"] as? String == id }) { out.append(l) }
        return out
    }

    /// `/runs`, serialized again only when the live runs' status or the store changed (JSONSerialization of
    /// 100 runs was three quarters of the request).
    public func runsJSON() -> [UInt8] {
        _ = liveRuns() // refreshes a stale cache first, so the versions below are the ones runs() reads
        let versions = (live.version, store.changeCount)
        if let kept = runsBody.kept.withLock({ $0 }), kept.live == versions.0, kept.store == versions.1 { return kept.body }
        let body = Array((try? JSONSerialization.data(withJSONObject: runs())) ?? Data("[]".utf8))
        runsBody.kept.withLock { $0 = (versions.0, versions.1, body) }
        return body
    }

    /// Asked fresh: whether a process action has a live run to go to.
    public var hasLiveWorker: Bool { liveRuns(fresh: true).contains { $0["live"] as? Bool == true } }

    /// Runs whose control socket answers, with their status: from the cache unless `fresh` (process actions
    /// ask the sockets themselves). A socket that does not answer within `ControlClient.statusTimeoutMillis`
    /// (accepted and silent, or never accepted) is skipped for `ControlClient.quarantineSeconds`, so a hung
    /// run costs one short timeout, not one per request.
    public func liveRuns(fresh: Bool = false) -> [[String: Any]] {
        fresh ? refreshLiveRuns() : live.get(refresh: askSockets)
    }

    /// Asks every control socket now and keeps the answer for the next requests.
    @discardableResult
    public func refreshLiveRuns() -> [[String: Any]] { live.set(askSockets()) }

    private func askSockets() -> [[String: Any]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory)) ?? []
        return names.filter { $0.hasSuffix(".sock") }.compactMap { name in
            ControlClient.status(runsDirectory + "/" + name)
        }.filter { $0["error"] == nil }
    }

    public func metricsText() -> String {
        let live = liveRuns().compactMap { run -> APIMetrics.LiveRun? in
            guard let id = run["run_id"] as? String else { return nil }
            return APIMetrics.LiveRun(runID: id, name: run["name"] as? String ?? "", sample: (try? store.latestSample(run: id)) ?? nil,
                                      up: run["live"] as? Bool == true, degraded: run["degraded"] as? Bool == true)
        }
        var text = metrics.renderDashboard(uptime: Date().timeIntervalSince(started), live: live)
        if text.isEmpty { text = "# no metrics\n" }
        return text
    }
}

/// Process actions from the dashboard: to the only live run, or to the one `run_id` names.
public struct ControlSink: ActionSink {
    public let source: StoreSource

    public init(source: StoreSource) { self.source = source }

    public func act(kind: ActionKind, reason: String, runID: String?) async -> ActionResult {
        let live = source.liveRuns(fresh: true).filter { $0["live"] as? Bool == true }.compactMap { $0["run_id"] as? String }
        let target: String
        if let runID {
            guard live.contains(runID) else { return .unknownRun(runID) }
            target = runID
        } else {
            guard !live.isEmpty else { return .noLiveRun }
            guard live.count == 1 else { return .ambiguous(live.sorted()) }
            target = live[0]
        }
        let op = kind == .restart ? "restart" : "kill"
        let reply: [String: Any]
        switch ControlClient.ask(source.runsDirectory + "/\(target).sock", ["op": op, "reason": reason]) {
        case .reply(let answer): reply = answer
        case .timedOut: return .unavailable("run \(target) did not answer on its control socket")
        case .noListener:
            // The run ended between the status check and the request (an earlier kill, or the worker exited and
            // the run tore down): the same answer as for a run that was not live to begin with.
            let stillLive = source.liveRuns(fresh: true).contains { $0["run_id"] as? String == target && $0["live"] as? Bool == true }
            if stillLive { return .unavailable("run \(target) closed its control socket without an answer") }
            return runID == nil ? .noLiveRun : .unknownRun(target)
        }
        if let error = reply["error"] as? String, reply["code"] as? Int == 503 || error.contains("did not answer") {
            return .unavailable(error)
        }
        if let error = reply["error"] as? String {
            return .done(ActionReply(actionID: 0, incidentID: "", accepted: false, detail: error))
        }
        return .done(ActionReply(actionID: UInt64(reply["action_id"] as? String ?? "") ?? 0,
                                 incidentID: reply["incident_id"] as? String ?? "", accepted: true,
                                 detail: reply["detail"] as? String ?? ""))
    }
}

/// A response body with the versions of what it was built from.
final class KeptBody: Sendable {
    let kept = Mutex<(live: UInt64, store: UInt64, body: [UInt8])?>(nil)
}

/// The newest status of the live runs, with its age. One caller refreshes a stale value while the others keep
/// reading the previous one (never a pile of requests asking the same sockets at once).
final class LiveRunCache: @unchecked Sendable { // every stored property is guarded by `lock`
    private let lock = NSLock()
    private var runs: [[String: Any]] = []
    private var at: Date?
    private var refreshing = false
    private var stamp: UInt64 = 0
    let maxAge: Double

    /// Changes each time the status is replaced.
    var version: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return stamp
    }

    init(maxAge: Double) { self.maxAge = maxAge }

    func get(refresh: () -> [[String: Any]]) -> [[String: Any]] {
        lock.lock()
        if let at, Date().timeIntervalSince(at) < maxAge || refreshing {
            defer { lock.unlock() }
            return runs
        }
        refreshing = true
        lock.unlock()
        return set(refresh())
    }

    @discardableResult
    func set(_ new: [[String: Any]]) -> [[String: Any]] {
        lock.lock()
        defer { lock.unlock() }
        runs = new
        at = Date()
        stamp &+= 1
        refreshing = false
        return new
    }
}
