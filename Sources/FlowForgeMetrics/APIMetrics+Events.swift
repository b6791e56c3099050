// FlowForge — the counters (and the newest-incident gauge) that follow a run's event stream.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeModel
import FlowForgeWire
import Prometheus

extension APIMetrics {
    /// Counts what a newly seen event means. Events of one run arrive in sequence order.
    public func count(_ e: TimelineEvent) {
        let (run, name) = identity(of: e)
        let program = programLabels(run: run, name: name)
        switch e.kind {
        case EventKind.runStarted.rawValue:
            prepare(run: run, name: e.fields["name"] ?? name)
        case EventKind.incidentOpened.rawValue:
            guard let id = e.incidentID else { break }
            state.withLock { s in
                if s.opened.count >= APIMetrics.pendingLimit { s.opened.removeAll() }
                s.opened[id] = (e.wallNanos, e.fields["verdict"] ?? "runaway")
            }
        case EventKind.policyDecision.rawValue:
            let decision = e.fields["decision"] ?? "?", mode = e.fields["mode"] ?? "?"
            counter(.actionsTotal, program + [("kind", decision), ("mode", mode)]).increment()
            // Operator actions are incidents of their own (`<run>-op<n>`) but not runaways.
            if mode != "operator", let id = e.incidentID { decided(id, program: program, name: name, action: decision, mode: mode, at: e) }
        case EventKind.workerStarted.rawValue where e.generation > 1:
            counter(.workerRestartsTotal, program).increment()
            counter(.restartsTotal, program).increment()
        case EventKind.restartSuppressed.rawValue:
            let reason = RestartSuppression(reason: e.fields["reason"] ?? "")
            counter(.restartsSuppressedTotal, program + [("reason", reason.rawValue)]).increment()
        case EventKind.agentExited.rawValue:
            counter(.agentRespawnsTotal, program + [("agent", e.fields["agent"] ?? "?")]).increment()
        case EventKind.agentRejected.rawValue:
            counter(.agentMessagesRejectedTotal, program + [("agent", e.fields["agent"] ?? "?")])
                .increment(by: Int64(clamping: UInt64(e.fields["dropped"] ?? "") ?? 0))
        case EventKind.supervisorDegraded.rawValue:
            counter(.supervisorDegradedTotal, program).increment()
        default: break
        }
    }

    /// A runaway incident got its policy decision: count it, and make it its program's newest incident.
    private func decided(_ id: String, program: [(String, String)], name: String, action: String, mode: String, at e: TimelineEvent) {
        let opened = state.withLock { $0.opened.removeValue(forKey: id) }
        counter(.incidentsTotal, program + [("action", action), ("rollout_mode", mode), ("kind", opened?.verdict ?? "runaway")]).increment()
        setLastIncident(id, program: program, name: name, action: action, mode: mode, nanos: opened?.nanos ?? e.wallNanos)
    }

    /// Replaces `name`'s newest-incident series unless it already shows a newer incident.
    func setLastIncident(_ id: String, program: [(String, String)], name: String, action: String, mode: String, nanos: Int64) {
        let labels = program + [("incident_id", id), ("action", action), ("rollout_mode", mode)]
        state.withLock { s in
            if let current = s.lastIncident[name] {
                guard current.nanos <= nanos else { return }
                registry.unregisterGauge(current.gauge)
            }
            let gauge = gauge(.incidentLastTimestampSeconds, labels)
            gauge.set(Double(nanos) / 1e9)
            s.lastIncident[name] = (nanos, gauge)
        }
    }

    /// The dashboard, when it starts: the newest runaway incident of each program from the store (the event
    /// stream only brings new ones), and zeroed counters for the programs it knows.
    public func seed(incidents: [IncidentSummary], names: [String]) {
        for name in Set(names) { prepare(run: "", name: name) }
        for i in incidents where !i.operator_ && !i.action.isEmpty {
            setLastIncident(i.id, program: programLabels(run: i.runID, name: i.name), name: i.name, action: i.action,
                            mode: i.rolloutMode, nanos: i.startNanos)
        }
    }

    /// Lines of a spool that were not events (skipped by the store's ingestion).
    public func countSkipped(lines: Int) {
        registry.makeCounter(descriptor: descriptor(.spoolLinesSkippedTotal)).increment(by: Int64(lines))
    }
}
