// FlowForge — the names, types and help texts of every metric FlowForge exposes.
// SPDX-License-Identifier: Apache-2.0

/// Every metric FlowForge exposes, by its Prometheus name. docs/metrics.md and openapi.yaml list each one with
/// its labels and cardinality; a test keeps all three in step.
public enum MetricName: String, CaseIterable, Sendable {
    case actionsTotal = "flowforge_actions_total"
    case agentMessagesRejectedTotal = "flowforge_agent_messages_rejected_total"
    case agentRespawnsTotal = "flowforge_agent_respawns_total"
    case analysisDroppedBytes = "flowforge_analysis_dropped_bytes"
    case buildInfo = "flowforge_build_info"
    case incidentLastTimestampSeconds = "flowforge_incident_last_timestamp_seconds"
    case incidentsTotal = "flowforge_incidents_total"
    /// Deprecated: the same count as `workerRestartsTotal`, kept for dashboards and tests written against it.
    case restartsTotal = "flowforge_restarts_total"
    case restartsSuppressedTotal = "flowforge_restarts_suppressed_total"
    case runDegraded = "flowforge_run_degraded"
    case spoolLinesSkippedTotal = "flowforge_spool_lines_skipped_total"
    case supervisorDegradedTotal = "flowforge_supervisor_degraded_total"
    case uptimeSeconds = "flowforge_uptime_seconds"
    case workerCpuPercent = "flowforge_worker_cpu_percent"
    case workerProcesses = "flowforge_worker_processes"
    case workerResidentBytes = "flowforge_worker_resident_bytes"
    case workerMemoryBytes = "flowforge_worker_memory_bytes"
    case watchdogLastPingSeconds = "flowforge_watchdog_last_ping_seconds"
    case workerRestartsTotal = "flowforge_worker_restarts_total"
    case workerUp = "flowforge_worker_up"

    /// `counter` or `gauge`, as the `# TYPE` line says.
    public var type: String { rawValue.hasSuffix("_total") ? "counter" : "gauge" }

    /// The `# HELP` line.
    public var help: String {
        switch self {
        case .actionsTotal: "Policy decisions (runaway and operator), by decision and mode."
        case .agentMessagesRejectedTotal: "Well-formed messages the reaper refused from an agent."
        case .agentRespawnsTotal: "Exits of an agent (the reaper respawns it)."
        case .analysisDroppedBytes: "Worker output the detector's copy dropped (the passthrough never drops)."
        case .buildInfo: "Always 1; the version is a label."
        case .incidentLastTimestampSeconds: "Start time of the newest runaway incident of each program (one series per name)."
        case .incidentsTotal: "Runaway incidents, by the action taken and the rollout mode."
        case .restartsTotal: "Deprecated: use flowforge_worker_restarts_total."
        case .restartsSuppressedTotal: "Restarts FlowForge refused to carry out (crash-loop guard, degraded run); the run stopped instead."
        case .runDegraded: "1 while a live run has lost its spawner (no restarts, no /proc scan), else 0."
        case .spoolLinesSkippedTotal: "Spool lines that are not events (skipped by the dashboard's ingestion)."
        case .supervisorDegradedTotal: "Runs that lost their spawner (supervisor.degraded)."
        case .uptimeSeconds: "Seconds since this server started."
        case .workerCpuPercent: "CPU of the worker's tree in the latest sample (100 = one core)."
        case .workerProcesses: "Processes in the worker's tree in the latest sample."
        case .workerResidentBytes: "Resident memory of the worker's tree in the latest sample."
        case .watchdogLastPingSeconds: "Seconds since the worker's last WATCHDOG=1 (or since it started), in the latest sample; only with a watchdog or once the worker pinged."
        case .workerMemoryBytes: "Memory of the worker's tree in the latest sample, as --max-memory compares it: the cgroup's memory.current, else the sum of RSS."
        case .workerRestartsTotal: "Worker generations started after the first (restarts)."
        case .workerUp: "1 while a worker generation runs, else 0."
        }
    }
}
