// FlowForge — the Prometheus metrics of a run's API agent and of the dashboard, recorded through swift-metrics
// and exposed by swift-prometheus.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeModel
import FlowForgeWire
import Metrics
import Prometheus

/// Every metric FlowForge exposes, by its Prometheus name (docs/metrics.md and openapi.yaml list them).
public enum MetricName: String, CaseIterable, Sendable {
    case actionsTotal = "flowforge_actions_total"
    case agentMessagesRejectedTotal = "flowforge_agent_messages_rejected_total"
    case agentRespawnsTotal = "flowforge_agent_respawns_total"
    case analysisDroppedBytes = "flowforge_analysis_dropped_bytes"
    case buildInfo = "flowforge_build_info"
    case incidentsTotal = "flowforge_incidents_total"
    case restartsTotal = "flowforge_restarts_total"
    case spoolLinesSkippedTotal = "flowforge_spool_lines_skipped_total"
    case supervisorDegradedTotal = "flowforge_supervisor_degraded_total"
    case uptimeSeconds = "flowforge_uptime_seconds"
    case workerCpuPercent = "flowforge_worker_cpu_percent"
    case workerProcesses = "flowforge_worker_processes"
    case workerResidentBytes = "flowforge_worker_resident_bytes"
    case workerUp = "flowforge_worker_up"
}

/// The metrics `/metrics` exposes. Counters follow the event stream; gauges are set at scrape time.
public final class APIMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let runLabel: @Sendable () -> String

    /// Bootstraps swift-metrics with a Prometheus registry (once per process).
    public init(runID: @escaping @Sendable () -> String) {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        self.registry = registry
        self.runLabel = runID
        Gauge(label: MetricName.buildInfo.rawValue, dimensions: [("version", APIMetrics.version)]).record(1)
    }

    public static let version = "0.1.0"

    /// Counts what a newly seen event means.
    public func count(_ e: TimelineEvent) {
        let run = e.runID.isEmpty ? runLabel() : e.runID
        switch e.kind {
        case EventKind.incidentOpened.rawValue:
            Counter(label: MetricName.incidentsTotal.rawValue, dimensions: [("run", run), ("kind", e.fields["verdict"] ?? "runaway")]).increment()
        case EventKind.policyDecision.rawValue:
            Counter(label: MetricName.actionsTotal.rawValue, dimensions: [("run", run), ("kind", e.fields["decision"] ?? "?"),
                                                                   ("mode", e.fields["mode"] ?? "?")]).increment()
        case EventKind.workerStarted.rawValue where e.generation > 1:
            Counter(label: MetricName.restartsTotal.rawValue, dimensions: [("run", run)]).increment()
        case EventKind.agentExited.rawValue:
            Counter(label: MetricName.agentRespawnsTotal.rawValue, dimensions: [("run", run), ("agent", e.fields["agent"] ?? "?")]).increment()
        case EventKind.agentRejected.rawValue:
            Counter(label: MetricName.agentMessagesRejectedTotal.rawValue, dimensions: [("run", run), ("agent", e.fields["agent"] ?? "?")])
                .increment(by: Int64(clamping: UInt64(e.fields["dropped"] ?? "") ?? 0))
        case EventKind.supervisorDegraded.rawValue:
            Counter(label: MetricName.supervisorDegradedTotal.rawValue, dimensions: [("run", run)]).increment()
        default: break
        }
    }

    /// Lines of a spool that were not events (skipped by the store's ingestion).
    public func countSkipped(lines: Int) {
        Counter(label: MetricName.spoolLinesSkippedTotal.rawValue).increment(by: Int64(lines))
    }

    /// The dashboard's exposition: uptime, then `gauges` reports each live run's latest sample.
    public func renderDashboard(uptime: Double, gauges: ((String, [String: String]?, Bool) -> Void) -> Void) -> String {
        Gauge(label: MetricName.uptimeSeconds.rawValue).record(uptime)
        gauges { run, sample, up in
            if let s = sample {
                Gauge(label: MetricName.workerCpuPercent.rawValue, dimensions: [("run", run)]).record(Double(s["cpu_percent"] ?? "") ?? 0)
                Gauge(label: MetricName.workerResidentBytes.rawValue, dimensions: [("run", run)]).record(Double(s["rss_bytes"] ?? "") ?? 0)
                Gauge(label: MetricName.workerProcesses.rawValue, dimensions: [("run", run)]).record(Double(s["processes"] ?? "") ?? 0)
            }
            Gauge(label: MetricName.workerUp.rawValue, dimensions: [("run", run)]).record(up ? 1 : 0)
        }
        return registry.emitToString()
    }

    /// Sets the gauges from the run's current state, then renders the exposition text.
    public func render(_ state: RunState) -> String {
        let run = state.runID
        Gauge(label: MetricName.uptimeSeconds.rawValue).record(state.uptime)
        if let s = state.latestSample {
            Gauge(label: MetricName.workerCpuPercent.rawValue, dimensions: [("run", run)]).record(Double(s["cpu_percent"] ?? "") ?? 0)
            Gauge(label: MetricName.workerResidentBytes.rawValue, dimensions: [("run", run)]).record(Double(s["rss_bytes"] ?? "") ?? 0)
            Gauge(label: MetricName.workerProcesses.rawValue, dimensions: [("run", run)]).record(Double(s["processes"] ?? "") ?? 0)
        }
        Gauge(label: MetricName.analysisDroppedBytes.rawValue, dimensions: [("run", run)]).record(Double(state.droppedBytes))
        Gauge(label: MetricName.workerUp.rawValue, dimensions: [("run", run)]).record(state.liveWorker == nil ? 0 : 1)
        return registry.emitToString()
    }
}
