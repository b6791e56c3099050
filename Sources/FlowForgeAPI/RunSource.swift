// FlowForge — one run's API agent as a timeline source: its in-memory state and its metrics.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeMetrics
import FlowForgeModel

/// One run's API: the in-memory state it keeps from its spool and channel.
public struct RunSource: TimelineSource {
    public let state: RunState
    public let metrics: APIMetrics?

    public init(state: RunState, metrics: APIMetrics?) {
        self.state = state
        self.metrics = metrics
    }

    public func incidents(limit: Int, before: Int64?) -> [IncidentSummary] {
        Array(Timeline.incidents(state.events).filter { before == nil || $0.startNanos < before! }.prefix(limit))
    }

    public func chain(incident: String) -> [TimelineEvent]? { Timeline.chain(state.events, incident: incident) }

    public func runs() -> [[String: Any]] {
        let live = state.liveWorker
        var run: [String: Any] = ["run_id": state.runID, "live": live != nil, "pid": live?.pid ?? 0, "generation": live?.generation ?? 0]
        if let s = state.latestSample, let cpu = Double(s["cpu_percent"] ?? "") { run["cpu_percent"] = cpu }
        if let w = state.workerName { run["worker"] = w }
        if !state.name.isEmpty { run["name"] = state.name }
        if !state.command.isEmpty { run["command"] = state.command }
        if state.degraded { run["degraded"] = true }
        // What `flowforge ps` shows, and `flowforge stop --grace` needs.
        if state.reaperPID > 0 { run["reaper_pid"] = Int(state.reaperPID) }
        if live != nil, let started = state.workerStarted { run["worker_started"] = started }
        if live != nil, let s = state.latestSample, let rss = Int(s["rss_bytes"] ?? "") { run["rss_bytes"] = rss }
        run["restarts"] = state.restarts
        let notify = state.notify
        if live != nil, notify.ready { run["notify_ready"] = true }
        if live != nil, notify.stopping { run["notify_stopping"] = true }
        if live != nil, let status = notify.status { run["notify_status"] = status }
        run["open_incidents"] = state.openIncidents
        return [run]
    }

    public var hasLiveWorker: Bool { state.liveWorker != nil }

    public func metricsText() -> String { metrics?.render(state) ?? "" }
}
