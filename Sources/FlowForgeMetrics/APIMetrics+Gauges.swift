// FlowForge — the gauges set at scrape time, from a run's state or the dashboard's live runs.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeModel
import Prometheus

extension APIMetrics {
    /// A live run as the dashboard sees it through the run's control socket.
    public struct LiveRun: Sendable {
        public var runID: String
        public var name: String
        /// The latest `sample` event's fields, if any.
        public var sample: [String: String]?
        public var up: Bool
        public var degraded: Bool

        public init(runID: String, name: String, sample: [String: String]?, up: Bool, degraded: Bool) {
            self.runID = runID
            self.name = name
            self.sample = sample
            self.up = up
            self.degraded = degraded
        }
    }

    /// The dashboard's exposition: uptime, then the gauges of each run in `live`. The gauges of runs that are no
    /// longer live are dropped, not left at their last value (a run that ended is not `up`).
    public func renderDashboard(uptime: Double, live: [LiveRun]) -> String {
        registry.makeGauge(descriptor: descriptor(.uptimeSeconds)).set(uptime)
        replaceLiveGauges(live.map { run in
            (run.runID, setWorkerGauges([("run", run.runID), ("name", run.name)], sample: run.sample, up: run.up, degraded: run.degraded))
        })
        return registry.emitToString()
    }

    /// Sets the gauges from the run's current state, then renders the exposition text.
    public func render(_ state: RunState) -> String {
        registry.makeGauge(descriptor: descriptor(.uptimeSeconds)).set(state.uptime)
        let labels = [("run", state.runID), ("name", state.name)]
        var gauges = setWorkerGauges(labels, sample: state.latestSample, up: state.liveWorker != nil, degraded: state.degraded)
        let dropped = gauge(.analysisDroppedBytes, labels)
        dropped.set(Double(state.droppedBytes))
        gauges.append(dropped)
        // Keyed by nothing: the run's id and name arrive with its first events, and the series set before
        // them (with `run=""` or `name=""`) must go rather than linger at their last value.
        replaceLiveGauges([("", gauges)])
        return registry.emitToString()
    }

    /// Keeps exactly `current`'s gauges registered among those set at scrape time.
    private func replaceLiveGauges(_ current: [(String, [Gauge])]) {
        state.withLock { s in
            var next: [String: [Gauge]] = [:]
            for (run, gauges) in current { next[run, default: []] += gauges }
            let keep = Set(next.values.joined().map(ObjectIdentifier.init))
            for g in s.liveGauges.values.joined() where !keep.contains(ObjectIdentifier(g)) { registry.unregisterGauge(g) }
            s.liveGauges = next
        }
    }

    /// The per-run gauges; returns them so the dashboard can drop them once the run is gone.
    private func setWorkerGauges(_ labels: [(String, String)], sample: [String: String]?, up: Bool, degraded: Bool) -> [Gauge] {
        var set: [Gauge] = []
        func record(_ name: MetricName, _ value: Double) {
            let g = gauge(name, labels)
            g.set(value)
            set.append(g)
        }
        if let s = sample {
            record(.workerCpuPercent, Double(s["cpu_percent"] ?? "") ?? 0)
            record(.workerResidentBytes, Double(s["rss_bytes"] ?? "") ?? 0)
            record(.workerMemoryBytes, Double(s["memory_bytes"] ?? s["rss_bytes"] ?? "") ?? 0)
            if let age = s["watchdog_age_seconds"].flatMap(Double.init) { record(.watchdogLastPingSeconds, age) }
            record(.workerProcesses, Double(s["processes"] ?? "") ?? 0)
        }
        record(.workerUp, up ? 1 : 0)
        record(.runDegraded, degraded ? 1 : 0)
        return set
    }
}
