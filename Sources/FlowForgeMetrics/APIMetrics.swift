// FlowForge — the Prometheus metrics of a run's API agent and of the dashboard (swift-prometheus registry).
// SPDX-License-Identifier: Apache-2.0
import FlowForgeModel
import FlowForgeWire
import Prometheus
import Synchronization

/// The metrics `/metrics` exposes. Counters follow the event stream; gauges are set at scrape time.
///
/// Labels (docs/metrics.md): every series about a program carries `name` (`WorkerName`, e.g. `consumer:2`).
/// A run's own API also puts `run` on every such series (one run per process, so it costs nothing there); the
/// dashboard keeps `run` only on the gauges of live runs and drops their series when the run is gone, so its
/// series grow with the programs it supervises, not with every run it has ever seen.
public final class APIMetrics: Sendable {
    /// Who serves the exposition.
    public enum Exporter: Sendable {
        /// A run's API agent (`run --listen`): the run's id and name, for events that do not carry them
        /// (those from the reaper's channel).
        case run(@Sendable () -> (id: String, name: String))
        /// The dashboard: every run in the state directory.
        case dashboard
    }

    public let registry: PrometheusCollectorRegistry
    let exporter: Exporter
    let state = Mutex(State())

    struct State {
        /// Incidents opened whose policy decision has not been seen yet: id → start (Unix ns) and verdict.
        var opened: [String: (nanos: Int64, verdict: String)] = [:]
        /// The one `flowforge_incident_last_timestamp_seconds` series of each name.
        var lastIncident: [String: (nanos: Int64, gauge: Gauge)] = [:]
        /// The gauges of each live run (dashboard), dropped when the run is no longer live.
        var liveGauges: [String: [Gauge]] = [:]
    }

    /// At most this many opened incidents wait for their decision (a decision normally follows at once).
    static let pendingLimit = 256

    public init(_ exporter: Exporter) {
        self.registry = PrometheusCollectorRegistry()
        self.exporter = exporter
        gauge(.buildInfo, [("version", APIMetrics.version)]).set(to: 1)
    }

    public static let version = "0.1.0"

    func counter(_ name: MetricName, _ labels: [(String, String)]) -> Counter {
        registry.makeCounter(descriptor: descriptor(name), labels: labels)
    }

    func gauge(_ name: MetricName, _ labels: [(String, String)]) -> Gauge {
        registry.makeGauge(descriptor: descriptor(name), labels: labels)
    }

    func descriptor(_ name: MetricName) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name.rawValue, unitName: "", helpText: name.help)
    }

    /// The labels that say which program (and, on a run's own API, which run) a series is about.
    func programLabels(run: String, name: String) -> [(String, String)] {
        switch exporter {
        case .run: [("run", run), ("name", name)]
        case .dashboard: [("name", name)]
        }
    }

    /// The run id and name of `e`, filled in from the exporter's run where the event lacks them.
    func identity(of e: TimelineEvent) -> (run: String, name: String) {
        guard case .run(let current) = exporter, e.runID.isEmpty || e.name.isEmpty else { return (e.runID, e.name) }
        let (id, name) = current()
        return (e.runID.isEmpty ? id : e.runID, e.name.isEmpty ? name : e.name)
    }

    /// The counters an alert rule takes an `increase()` of, at 0 for `name`: a series that first appears at 1
    /// is no increase to Prometheus, so the first restart (or crash-loop stop) of a program would go unseen.
    public func prepare(run: String, name: String) {
        let labels = programLabels(run: run, name: name)
        counter(.workerRestartsTotal, labels).increment(by: Int64(0))
        counter(.restartsSuppressedTotal, labels + [("reason", RestartSuppression.crashLoop.rawValue)]).increment(by: Int64(0))
    }
}
